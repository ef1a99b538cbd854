// payload.ts: the JSON body of a batch event's delivery, the same on every attempt of one event.
import type { WebhookEventType } from "./events.ts";

/** The batch as recordBatchEvents stored it (webhook_event.batch). */
export interface BatchSnapshot {
  id: string;
  status: string;
  counts: Record<string, number>;
  metadata: unknown;
  createdAt: string;
  finishedAt: string | null;
}

export interface StoredEvent {
  type: WebhookEventType;
  createdAt: Date;
  batch: BatchSnapshot;
}

/**
 * Where a batch's results can be downloaded (GET /batches/{id}/results.jsonl): absolute when a
 * public base URL is configured (PUBLIC_BASE_URL), else the path on this server.
 */
export function resultsUrl(batchId: string, publicBaseUrl: string | undefined): string {
  const path = `/batches/${batchId}/results.jsonl`;
  return publicBaseUrl ? `${publicBaseUrl.replace(/\/+$/, "")}${path}` : path;
}

/** Keys in a fixed order (jsonb keeps its own), so one event's body is byte-identical every time. */
export function eventBody(event: StoredEvent, publicBaseUrl: string | undefined): string {
  const { batch } = event;
  const c = batch.counts;
  return JSON.stringify({
    type: event.type,
    timestamp: event.createdAt.toISOString(),
    data: {
      batch: {
        id: batch.id,
        status: batch.status,
        counts: {
          total: c.total,
          queued: c.queued,
          running: c.running,
          retrying: c.retrying,
          succeeded: c.succeeded,
          failed: c.failed,
          canceled: c.canceled,
          expired: c.expired,
        },
        metadata: batch.metadata ?? null,
        createdAt: batch.createdAt,
        finishedAt: batch.finishedAt,
        resultsUrl: resultsUrl(batch.id, publicBaseUrl),
      },
    },
  });
}
