// errorGroups.ts: a batch's FAILED tasks grouped by error code and message, in one grouped
// statement (task_batch_status_index holds exactly the batch's failed tasks).
import type { Pool } from "../../db/pool.ts";

export interface ErrorGroup {
  code: string;
  message: string;
  count: number;
  /** The lowest index among the group's tasks: one to look at. */
  firstIndex: number;
}

/** Messages are grouped by their first this many characters. */
const MESSAGE_CHARS = 1_000;

/** The largest `limit` groups, largest first. */
export async function errorGroups(pool: Pool, batchId: string, limit: number): Promise<ErrorGroup[]> {
  const { rows } = await pool.query<ErrorGroup>(
    `select coalesce(error->>'code', '') as code, left(coalesce(error->>'message', ''), ${MESSAGE_CHARS}) as message,
            count(*)::int as count, min(index) as "firstIndex"
     from task where batch_id = $1 and status = 'FAILED'
     group by 1, 2
     order by count desc, code, message
     limit $2`,
    [batchId, limit],
  );
  return rows;
}
