// outbox.ts: records the webhook event of each batch that just reached its final status, inside the
// transaction that wrote that status: a final status never exists without its event, nor an event
// without its status. The dispatcher (dispatcher.ts) turns events into deliveries after commit.
import type { PoolClient } from "../db/pool.ts";
import { EVENT_OF_FINAL_STATUS } from "./events.ts";

const FINAL = Object.entries(EVENT_OF_FINAL_STATUS);

/**
 * `batchIds` are batches this transaction moved into a final status. The body's batch is taken
 * now, as the status left it, so every attempt of every delivery sends the same thing even after
 * the batch is purged. Timestamps are written as JavaScript's toISOString() writes them.
 */
export async function recordBatchEvents(client: PoolClient, batchIds: string[]): Promise<void> {
  if (batchIds.length === 0) return;
  await client.query(
    `insert into webhook_event (owner, type, batch_id, batch, created_at)
     select b.owner, f.type, b.id,
            jsonb_build_object(
              'id', b.id,
              'status', b.status,
              'counts', jsonb_build_object('total', b.total, 'queued', b.queued, 'running', b.running, 'retrying', b.retrying,
                                           'succeeded', b.succeeded, 'failed', b.failed, 'canceled', b.canceled, 'expired', b.expired),
              'metadata', b.metadata,
              'createdAt', to_char(b.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'finishedAt', to_char(b.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
            coalesce(b.finished_at, now())
     from batch b join unnest($2::text[], $3::text[]) as f(status, type) on f.status = b.status
     where b.id = any($1::uuid[])`,
    [batchIds, FINAL.map(([status]) => status), FINAL.map(([, type]) => type)],
  );
}
