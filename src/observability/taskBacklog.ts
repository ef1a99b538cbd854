// taskBacklog.ts: the cluster-wide backlog behind batchwire_tasks and
// batchwire_oldest_queued_task_age_seconds, read from the database at scrape time, one query per
// cache period however many scrapers ask, and bounded by a statement timeout.
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { BACKLOG_STATUSES, type Backlog, type BacklogStatus } from "./metrics.ts";

export interface BacklogOptions {
  /** A read serves every scrape within this many ms (Prometheus scrapes every 15-60 s). */
  cacheMs: number;
  /** The query's statement_timeout; a scrape never waits longer for these gauges. */
  timeoutMs: number;
}

const DEFAULTS: BacklogOptions = { cacheMs: 5_000, timeoutMs: 2_000 };

interface BacklogRow {
  kind: string;
  status: BacklogStatus;
  n: number;
  oldest_queued_seconds: number | null;
}

/**
 * Only unfinished batches can hold waiting or running tasks, and the partial status index
 * (task_batch_status_index: batch_id, status, index; SUCCEEDED left out) finds exactly those tasks
 * of each such batch. So the cost follows the backlog (tasks QUEUED, RUNNING or RETRYING), never
 * the finished tasks kept for retention, and the FAILED and CANCELED ones the index also holds are
 * skipped by its second column.
 */
export async function readTaskBacklog(pool: Pool, timeoutMs: number): Promise<BacklogRow[]> {
  // One round trip: two statements in one simple query run as one implicit transaction, so the
  // timeout holds for the select alone and is gone with it, even when it fires.
  const results = (await pool.query(
    `set local statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))};
     select t.kind, t.status, count(*)::int as n,
            extract(epoch from now() - min(t.created_at) filter (where t.status = 'QUEUED'))::float8 as oldest_queued_seconds
       from batch b
       join task t on t.batch_id = b.id and t.status in ('QUEUED', 'RUNNING', 'RETRYING')
      where b.status in ('QUEUED', 'RUNNING', 'CANCELING')
      group by t.kind, t.status`,
  )) as unknown as [unknown, { rows: BacklogRow[] }];
  return results[1].rows;
}

/** Every registered kind gets a series per status (zeros included), so alerts never see gaps. */
export function toBacklog(rows: BacklogRow[], kinds: string[]): Backlog {
  const counts = new Map<string, number>();
  const oldest = new Map<string, number>();
  for (const kind of kinds) {
    for (const status of BACKLOG_STATUSES) counts.set(`${kind}\u0000${status}`, 0);
    oldest.set(kind, 0);
  }
  for (const row of rows) {
    counts.set(`${row.kind}\u0000${row.status}`, row.n);
    if (row.oldest_queued_seconds !== null) oldest.set(row.kind, Math.max(0, row.oldest_queued_seconds));
    else if (!oldest.has(row.kind)) oldest.set(row.kind, 0);
  }
  return {
    tasks: [...counts].map(([key, count]) => {
      const [kind, status] = key.split("\u0000") as [string, BacklogStatus];
      return { kind, status, count };
    }),
    oldestQueuedAgeSeconds: [...oldest].map(([kind, seconds]) => ({ kind, seconds })),
  };
}

/** The reader Metrics.observeBacklog takes: cached, and undefined (no samples) when the read fails. */
export function taskBacklog(pool: Pool, kinds: () => string[], log: Logger, options: Partial<BacklogOptions> = {}): () => Promise<Backlog | undefined> {
  const { cacheMs, timeoutMs } = { ...DEFAULTS, ...options };
  let cached: { at: number; backlog: Promise<Backlog | undefined> } | undefined;
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < cacheMs) return cached.backlog;
    const backlog = readTaskBacklog(pool, timeoutMs).then(
      (rows) => toBacklog(rows, kinds()),
      (error: unknown) => {
        log.warn({ err: error }, "could not read the task backlog for /metrics");
        return undefined;
      },
    );
    cached = { at: now, backlog };
    return backlog;
  };
}
