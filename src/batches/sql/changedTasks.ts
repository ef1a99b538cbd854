// changedTasks.ts: the tasks of some batches that changed between two batch versions.
import type { Pool } from "../../db/pool.ts";
import type { TaskRow } from "../rows.ts";

export interface VersionRange {
  /** Changes after this batch version… */
  since: number;
  /** …up to and including this one (the version of the batch snapshot they go with). */
  upTo: number;
}

/**
 * At most `limit` rows per batch, newest first; one statement for all batches. Exact: a task's
 * batch_version is written in the same transaction that moves the batch to that version. The
 * upper bound keeps changes committed after the batch was read out of the limit's window, where
 * they would crowd out older ones that belong to this snapshot.
 */
export async function changedTasks(pool: Pool, ranges: Map<string, VersionRange>, limit: number): Promise<TaskRow[]> {
  if (ranges.size === 0) return [];
  const { rows } = await pool.query<TaskRow>(
    `select t.* from unnest($1::uuid[], $2::bigint[], $3::bigint[]) as s(batch_id, since, up_to)
     cross join lateral (
       select * from task
       where task.batch_id = s.batch_id and task.batch_version > s.since and task.batch_version <= s.up_to
       order by task.batch_version desc, task.index
       limit $4
     ) t`,
    [[...ranges.keys()], [...ranges.values()].map((r) => r.since), [...ranges.values()].map((r) => r.upTo), limit],
  );
  return rows;
}
