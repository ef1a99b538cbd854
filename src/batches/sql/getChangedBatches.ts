// getChangedBatches.ts: the reads of the event hub: batches that changed, for their watchers and
// for the tenant-wide feeds of their owners, and an owner's batches that may have changed while
// the hub was not listening.
import type { Pool } from "../../db/pool.ts";
import type { BatchRow } from "../rows.ts";

/** Of `ids`, the batches in `watched` or owned by one of `owners`, in one statement. */
export async function getChangedBatches(pool: Pool, ids: string[], watched: string[], owners: string[]): Promise<BatchRow[]> {
  const { rows } = await pool.query<BatchRow>(
    `select * from batch where id = any($1::uuid[]) and (id = any($2::uuid[]) or owner = any($3::text[]))`,
    [ids, watched, owners],
  );
  return rows;
}

/**
 * The owners' batches that can have changed since `since`: every unfinished one, and those that
 * finished since (a finished batch changes again only by retryFailedTasks, which unfinishes it).
 * Newest first, at most `limit` (batch_owner_unfinished and batch_owner_finished_at serve it).
 */
export async function getOwnersBatchesChangedSince(pool: Pool, owners: string[], since: Date, limit: number): Promise<BatchRow[]> {
  const { rows } = await pool.query<BatchRow>(
    `(select * from batch where owner = any($1::text[]) and status in ('QUEUED', 'RUNNING', 'CANCELING')
      order by seq desc limit $3)
     union all
     (select * from batch where owner = any($1::text[]) and finished_at >= $2
      order by seq desc limit $3)`,
    [owners, since, limit],
  );
  return rows;
}
