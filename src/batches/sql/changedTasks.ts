// changedTasks.ts: the tasks of some batches that changed after a given batch version.
import type { Pool } from "../../db/pool.ts";
import type { TaskRow } from "../rows.ts";

/**
 * At most `limit` rows per batch, newest first; one statement for all batches. Exact: a task's
 * batch_version is written in the same transaction that moves the batch to that version.
 */
export async function changedTasks(pool: Pool, sinceVersion: Map<string, number>, limit: number): Promise<TaskRow[]> {
  if (sinceVersion.size === 0) return [];
  const { rows } = await pool.query<TaskRow>(
    `select t.* from unnest($1::uuid[], $2::bigint[]) as s(batch_id, since)
     cross join lateral (
       select * from task
       where task.batch_id = s.batch_id and task.batch_version > s.since
       order by task.batch_version desc, task.index
       limit $3
     ) t`,
    [[...sinceVersion.keys()], [...sinceVersion.values()], limit],
  );
  return rows;
}
