// insertTasks.ts: writes all of a batch's tasks in one statement over arrays.
import type { PoolClient } from "../../db/pool.ts";

export interface NewTask {
  id: string;
  index: number;
  customId: string | null;
  kind: string;
  /** The input as the client gave it, serialised. */
  inputJson: string;
}

export async function insertTasks(client: PoolClient, batchId: string, tasks: NewTask[]): Promise<void> {
  await client.query(
    `insert into task (id, batch_id, index, custom_id, kind, input)
     select id, $1, index, custom_id, kind, input::jsonb
     from unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[]) as t(id, index, custom_id, kind, input)`,
    [
      batchId,
      tasks.map((t) => t.id),
      tasks.map((t) => t.index),
      tasks.map((t) => t.customId),
      tasks.map((t) => t.kind),
      tasks.map((t) => t.inputJson),
    ],
  );
}
