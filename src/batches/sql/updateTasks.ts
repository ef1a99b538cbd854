// updateTasks.ts: applies many task transitions in one statement over arrays.
import type { PoolClient } from "../../db/pool.ts";
import type { TaskStatus } from "../rows.ts";

export interface TaskUpdate {
  id: string;
  status: TaskStatus;
  attempts: number;
  jobId: string | null;
  startedAt: Date | null;
  /** JSON text, or null. */
  result: string | null;
  error: string | null;
  /** The batch version this change is part of. */
  batchVersion: number;
}

export async function updateTasks(client: PoolClient, updates: TaskUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await client.query(
    `update task t set
       status = u.status,
       attempts = u.attempts,
       job_id = u.job_id,
       result = case when u.status = 'SUCCEEDED' then u.result::jsonb
                     when u.status = 'QUEUED' then null else t.result end,
       error = case when u.status in ('FAILED', 'RETRYING', 'CANCELED', 'EXPIRED') then u.error::jsonb
                    when u.status = 'SUCCEEDED' then null else t.error end,
       progress = case when u.status = 'SUCCEEDED' then 1
                       when u.status = 'RUNNING' then 0
                       when u.status = 'QUEUED' then null else t.progress end,
       started_at = case when u.started_at is not null then u.started_at
                         when u.status = 'RUNNING' then now() else t.started_at end,
       finished_at = case when u.status in ('SUCCEEDED', 'FAILED', 'CANCELED', 'EXPIRED') then now() else null end,
       updated_at = now(),
       batch_version = u.batch_version
     from unnest($1::uuid[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[])
       as u(id, status, attempts, job_id, result, error, batch_version, started_at)
     where t.id = u.id`,
    [
      updates.map((u) => u.id),
      updates.map((u) => u.status),
      updates.map((u) => u.attempts),
      updates.map((u) => u.jobId),
      updates.map((u) => u.result),
      updates.map((u) => u.error),
      updates.map((u) => u.batchVersion),
      updates.map((u) => u.startedAt),
    ],
  );
}
