// listTasks.ts: a batch's tasks in index order, keyset-paged by index.
import type { Pool } from "../../db/pool.ts";
import type { TaskRow, TaskStatus } from "../rows.ts";

export interface ListTasksArgs {
  batchId: string;
  status: TaskStatus | null;
  afterIndex: number | null;
  beforeIndex: number | null;
  limit: number;
  descending: boolean;
}

export async function listTasks(pool: Pool, args: ListTasksArgs): Promise<TaskRow[]> {
  const { rows } = await pool.query<TaskRow>(
    `select * from task
     where batch_id = $1
       and ($2::text is null or status = $2)
       and ($3::int is null or index > $3)
       and ($4::int is null or index < $4)
     order by index ${args.descending ? "desc" : "asc"}
     limit $5`,
    [args.batchId, args.status, args.afterIndex, args.beforeIndex, args.limit],
  );
  return rows;
}

/** Tasks by id, for events that name the tasks that changed. */
export async function getTasksById(pool: Pool, ids: string[]): Promise<TaskRow[]> {
  const { rows } = await pool.query<TaskRow>(`select * from task where id = any($1::uuid[]) order by index`, [ids]);
  return rows;
}
