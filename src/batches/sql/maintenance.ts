// maintenance.ts (sql): the reads and deletes of the periodic maintenance sweep.
import type { Pool, PoolClient } from "../../db/pool.ts";

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

/** Tasks RUNNING for longer than `seconds`: their worker may have died after pg-boss gave up on the job. */
export async function longRunningTasks(pool: Pool, seconds: number, limit: number): Promise<RunningTask[]> {
  const { rows } = await pool.query<RunningTask>(
    `select id, kind, job_id from task where status = 'RUNNING' and started_at < now() - $1 * interval '1 second'
     order by started_at limit $2`,
    [seconds, limit],
  );
  return rows;
}

/** Runs `fn` only if no other process holds the maintenance lock; returns whether it ran. */
export async function withMaintenanceLock(pool: Pool, fn: () => Promise<void>): Promise<boolean> {
  const client: PoolClient = await pool.connect();
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
    client.release();
  }
}
