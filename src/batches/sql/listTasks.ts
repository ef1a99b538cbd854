// listTasks.ts: a batch's tasks in index order, keyset-paged by index.
import type { Pool } from "../../db/pool.ts";
import type { TaskRow, TaskStatus } from "../rows.ts";

export interface ListTasksArgs {
  batchId: string;
  status: TaskStatus | null;
  /** Only the task with this customId (task_batch_custom_id finds it). */
  customId: string | null;
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
       and ($6::text is null or custom_id = $6)
     order by index ${args.descending ? "desc" : "asc"}
     limit $5`,
    [args.batchId, args.status, args.afterIndex, args.beforeIndex, args.limit, args.customId],
  );
  return rows;
}

/** 1 when the batch has a task with this customId (in `status`, when given), else 0. */
export async function countTasksWithCustomId(pool: Pool, batchId: string, customId: string, status: TaskStatus | null): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `select count(*)::int as count from task where batch_id = $1 and custom_id = $2 and ($3::text is null or status = $3)`,
    [batchId, customId, status],
  );
  return rows[0]?.count ?? 0;
}

/** Tasks by id, for events that name the tasks that changed. */
export async function getTasksById(pool: Pool, ids: string[]): Promise<TaskRow[]> {
  const { rows } = await pool.query<TaskRow>(`select * from task where id = any($1::uuid[]) order by index`, [ids]);
  return rows;
}
