// maintenance.ts (sql): the reads and deletes of the periodic maintenance sweep.
import { checkout, type Pool } from "../../db/pool.ts";

/** Batches whose completion window has closed while tasks still wait to start. */
export async function expiredBatchIds(pool: Pool, limit: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `select id from batch where expires_at < now() and status in ('QUEUED', 'RUNNING') order by expires_at limit $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

/** Deletes finished batches past their retention (their tasks go with them); returns how many. */
export async function purgeBatches(pool: Pool, limit: number): Promise<number> {
  const { rowCount } = await pool.query(
    `delete from batch where id in (select id from batch where purge_at < now() order by purge_at limit $1)`,
    [limit],
  );
  return rowCount ?? 0;
}

export interface RunningTask {
  id: string;
  kind: string;
  job_id: string | null;
}

/**
 * Tasks RUNNING for longer than their kind's cutoff (seconds by kind name): their worker may have
 * died after pg-boss gave up on the job.
 */
export async function longRunningTasks(pool: Pool, cutoffs: Map<string, number>, limit: number): Promise<RunningTask[]> {
  const { rows } = await pool.query<RunningTask>(
    `select t.id, t.kind, t.job_id
     from task t join unnest($1::text[], $2::int[]) as k(kind, seconds) on k.kind = t.kind
     where t.status = 'RUNNING' and t.started_at < now() - k.seconds * interval '1 second'
     order by t.started_at limit $3`,
    [[...cutoffs.keys()], [...cutoffs.values()], limit],
  );
  return rows;
}

/** Runs `fn` only if no other process holds the maintenance lock; returns whether it ran. */
export async function withMaintenanceLock(pool: Pool, fn: () => Promise<void>): Promise<boolean> {
  const client = await checkout(pool);
  try {
    const { rows } = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock(hashtext('batchwire.maintenance')) as locked`);
    if (!rows[0]?.locked) return false;
    try {
      await fn();
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('batchwire.maintenance'))`);
    }
    return true;
  } finally {
    client.done();
  }
}
