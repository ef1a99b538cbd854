// resultPage.ts: one page of a batch's task outcomes for the JSONL download, keyset-paged by index.
import type { Pool } from "../../db/pool.ts";
import type { TaskRow, TaskStatus } from "../rows.ts";

export type ResultRow = Pick<TaskRow, "index" | "custom_id" | "kind" | "status" | "attempts" | "result" | "error">;

/** Up to `limit` tasks after `afterIndex`, in index order; only the columns a result line shows. */
export async function resultPage(pool: Pool, batchId: string, status: TaskStatus | null, afterIndex: number, limit: number): Promise<ResultRow[]> {
  const { rows } = await pool.query<ResultRow>(
    `select index, custom_id, kind, status, attempts, result, error from task
     where batch_id = $1 and ($2::text is null or status = $2) and index > $3
     order by index
     limit $4`,
    [batchId, status, afterIndex, limit],
  );
  return rows;
}
