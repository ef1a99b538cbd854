// bumpBatches.ts: adds counter deltas to batches, settles their status, NOTIFYs once per batch, and
// writes the task changes those deltas count, stamped with their batch's new version.
import type { PoolClient } from "../../db/pool.ts";
import { BATCH_CHANGED_CHANNEL } from "../../events/channel.ts";
import { recordBatchEvents } from "../../webhooks/outbox.ts";
import { FINAL_BATCH_STATUSES, type BatchStatus, type TaskStatus } from "../rows.ts";

export interface CounterDelta {
  batchId: string;
  queued: number;
  running: number;
  retrying: number;
  succeeded: number;
  failed: number;
  canceled: number;
  expired: number;
  /** CANCELING to start a cancellation; RUNNING to reopen a finished batch (retryFailedTasks). */
  status?: "CANCELING" | "RUNNING";
}

/** One task's new state; its batch_version becomes its batch's new version. */
export interface TaskUpdate {
  id: string;
  batchId: string;
  status: TaskStatus;
  attempts: number;
  jobId: string | null;
  startedAt: Date | null;
  /** JSON text, or null. */
  result: string | null;
  error: string | null;
}

export interface BumpedBatch {
  id: string;
  version: number;
  status: BatchStatus;
  /** The status before this bump. */
  previousStatus: BatchStatus;
}

/**
 * One statement for every touched batch: counters move by the deltas, the version goes up, the
 * status follows (a batch with nothing left to run ends CANCELED when it was canceling, EXPIRED
 * when a task expired, COMPLETED otherwise), and one pg_notify per batch is queued, delivered at
 * commit. Deltas are sorted by batch id so concurrent flushes lock batch rows in the same order.
 * The task updates ride in the same statement: one round trip less, and the batch rows stay
 * locked (every flush of the batch waits for them) for one statement and the commit.
 * A batch that this bump makes final gets its webhook event in the same transaction.
 */
export async function bumpBatches(client: PoolClient, deltas: CounterDelta[], tasks: TaskUpdate[] = []): Promise<BumpedBatch[]> {
  if (deltas.length === 0) return [];
  const sorted = [...deltas].sort((a, b) => (a.batchId < b.batchId ? -1 : a.batchId > b.batchId ? 1 : 0));
  const { rows } = await client.query<{ id: string; version: number; status: BatchStatus; previous_status: BatchStatus }>(
    `with d as (
       select * from unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::text[])
         as d(batch_id, queued, running, retrying, succeeded, failed, canceled, expired, status)
     ), locked as (
       -- FOR UPDATE returns the row's latest committed version, the one the update below changes.
       select b.id, b.status as previous_status from batch b join d on d.batch_id = b.id order by b.id for update of b
     ), bumped as (
       -- Every expression reads b itself: under concurrent flushes, b is the row's latest version
       -- (re-read after the lock), while a CTE reading batch would see the statement's snapshot.
       update batch b set
         queued = b.queued + d.queued,
         running = b.running + d.running,
         retrying = b.retrying + d.retrying,
         succeeded = b.succeeded + d.succeeded,
         failed = b.failed + d.failed,
         canceled = b.canceled + d.canceled,
         expired = b.expired + d.expired,
         version = b.version + 1,
         status = case
           when b.status in ('COMPLETED', 'CANCELED', 'EXPIRED') and d.status is distinct from 'RUNNING' then b.status
           when b.queued + d.queued + b.running + d.running + b.retrying + d.retrying = 0 then
             case when b.status = 'CANCELING' or d.status = 'CANCELING' then 'CANCELED'
                  when b.expired + d.expired > 0 then 'EXPIRED'
                  else 'COMPLETED' end
           when d.status is not null then d.status
           when b.status = 'QUEUED' and d.running + d.retrying + d.succeeded + d.failed > 0 then 'RUNNING'
           else b.status end,
         started_at = case when d.running + d.retrying + d.succeeded + d.failed > 0 then coalesce(b.started_at, now())
                           else b.started_at end,
         -- Reopened (retryFailedTasks): the retried tasks get a window as long as the first one.
         expires_at = case when d.status = 'RUNNING' then greatest(b.expires_at, now() + (b.expires_at - b.created_at)) else b.expires_at end,
         finished_at = case
           when b.status in ('COMPLETED', 'CANCELED', 'EXPIRED') and d.status is distinct from 'RUNNING' then b.finished_at
           when b.queued + d.queued + b.running + d.running + b.retrying + d.retrying = 0 then now()
           else null end,
         purge_at = case
           when b.status in ('COMPLETED', 'CANCELED', 'EXPIRED') and d.status is distinct from 'RUNNING' then b.purge_at
           when b.queued + d.queued + b.running + d.running + b.retrying + d.retrying = 0
             then now() + b.retention_seconds * interval '1 second'
           else null end
       from d join locked l on l.id = d.batch_id
       where b.id = d.batch_id
       returning b.id, b.version, b.status
     ), moved as (
       update task t set
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
         batch_version = bumped.version
       from unnest($10::uuid[], $11::uuid[], $12::text[], $13::int[], $14::uuid[], $15::text[], $16::text[], $17::timestamptz[])
         as u(id, batch_id, status, attempts, job_id, result, error, started_at)
       join bumped on bumped.id = u.batch_id
       where t.id = u.id
     )
     select bumped.id, bumped.version, bumped.status, locked.previous_status,
            pg_notify('${BATCH_CHANGED_CHANNEL}', json_build_object('b', bumped.id, 'v', bumped.version)::text)
     from bumped join locked on locked.id = bumped.id`,
    [
      sorted.map((d) => d.batchId),
      sorted.map((d) => d.queued),
      sorted.map((d) => d.running),
      sorted.map((d) => d.retrying),
      sorted.map((d) => d.succeeded),
      sorted.map((d) => d.failed),
      sorted.map((d) => d.canceled),
      sorted.map((d) => d.expired),
      sorted.map((d) => d.status ?? null),
      tasks.map((u) => u.id),
      tasks.map((u) => u.batchId),
      tasks.map((u) => u.status),
      tasks.map((u) => u.attempts),
      tasks.map((u) => u.jobId),
      tasks.map((u) => u.result),
      tasks.map((u) => u.error),
      tasks.map((u) => u.startedAt),
    ],
  );
  const bumped = rows.map(({ id, version, status, previous_status }) => ({ id, version, status, previousStatus: previous_status }));
  const finished = bumped.filter((b) => FINAL_BATCH_STATUSES.includes(b.status) && !FINAL_BATCH_STATUSES.includes(b.previousStatus));
  await recordBatchEvents(client, finished.map((b) => b.id));
  return bumped;
}
