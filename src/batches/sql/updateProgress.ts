// updateProgress.ts: writes the latest progress of many running tasks.
import type { PoolClient } from "../../db/pool.ts";

/**
 * Locks the still-running tasks among `progress` in id order, skipping any an outcome flush
 * holds (its final status makes the progress moot). Returns task id → batch id.
 */
export async function lockRunningTasks(client: PoolClient, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await client.query<{ id: string; batch_id: string }>(
    `select id, batch_id from task where id = any($1::uuid[]) and status = 'RUNNING'
     order by id for update skip locked`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.batch_id]));
}

export async function updateProgress(client: PoolClient, progress: { id: string; progress: number; batchVersion: number }[]): Promise<void> {
  await client.query(
    `update task t set progress = u.progress, batch_version = u.batch_version, updated_at = now()
     from unnest($1::uuid[], $2::real[], $3::bigint[]) as u(id, progress, batch_version)
     where t.id = u.id`,
    [progress.map((p) => p.id), progress.map((p) => p.progress), progress.map((p) => p.batchVersion)],
  );
}
