// lockTasks.ts: locks tasks (in id order, so concurrent flushes cannot deadlock) and reads their state.
import type { PoolClient } from "../../db/pool.ts";
import type { TaskStatus } from "../rows.ts";

export interface LockedTask {
  id: string;
  batch_id: string;
  status: TaskStatus;
  attempts: number;
  custom_id: string | null;
  input: unknown;
}

export async function lockTasks(client: PoolClient, ids: string[], withInput: boolean): Promise<LockedTask[]> {
  const { rows } = await client.query<LockedTask>(
    `select id, batch_id, status, attempts, custom_id, ${withInput ? "input" : "null as input"}
     from task where id = any($1::uuid[]) order by id for update`,
    [ids],
  );
  return rows;
}
