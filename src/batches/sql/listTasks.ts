// listTasks.ts: a batch's tasks in index order, keyset-paged by index, optionally cut where a
// byte budget for their inputs and results runs out.
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

export interface JsonBudget {
  /** Which JSON columns the response carries, and so counts. */
  input: boolean;
  result: boolean;
  /** Bytes left: rows that start past it are not returned; the row that crosses it is. */
  bytesLeft: number;
}

export interface TaskPage {
  rows: TaskRow[];
  /** Bytes of counted JSON in `rows`. */
  bytes: number;
  /** Rows of the page were left out for the budget. */
  cut: boolean;
}

export async function listTasks(pool: Pool, args: ListTasksArgs, budget?: JsonBudget): Promise<TaskPage> {
  const order = args.descending ? "desc" : "asc";
  const params = [args.batchId, args.status, args.afterIndex, args.beforeIndex, args.limit, args.customId];
  const page = `select t.*, (case when $7 then t.input_bytes else 0 end + case when $8 then t.result_bytes else 0 end)::float8 as json_bytes
     from task t
     where batch_id = $1
       and ($2::text is null or status = $2)
       and ($3::int is null or index > $3)
       and ($4::int is null or index < $4)
       and ($6::text is null or custom_id = $6)
     order by index ${order}
     limit $5`;
  if (!budget) {
    const { rows } = await pool.query<TaskRow>(page, [...params, false, false]);
    return { rows, bytes: 0, cut: false };
  }
  const { rows } = await pool.query<TaskRow & { json_bytes: number; page_rows: string }>(
    `select * from (
       select page.*,
              sum(json_bytes) over (order by index ${order} rows unbounded preceding) - json_bytes as bytes_before,
              count(*) over () as page_rows
       from (${page}) page
     ) measured
     where bytes_before < $9
     order by index ${order}`,
    [...params, budget.input, budget.result, budget.bytesLeft],
  );
  const pageRows = rows.length > 0 ? Number(rows[0]!.page_rows) : 0;
  return {
    rows,
    bytes: rows.reduce((sum, row) => sum + row.json_bytes, 0),
    // Nothing fits a spent budget; the page may still have rows.
    cut: rows.length < pageRows || (budget.bytesLeft <= 0 && args.limit > 0),
  };
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
