// deliver.ts: the pg-boss worker of the webhook.delivery queue. One job makes one attempt of one
// delivery: it signs the event's body, sends it through the SSRF guard, then writes the outcome
// and settles the job in one transaction. A failed attempt leaves the job to pg-boss's backoff;
// the last one leaves the delivery FAILED.
import type { JobWithMetadata, PgBoss } from "pg-boss";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { withRetries } from "../worker/flush.ts";
import { eventBody } from "./payload.ts";
import { WEBHOOK_QUEUE, type DeliveryJobData } from "./queue.ts";
import type { SecretBox } from "./secrets.ts";
import { sendWebhook, type AttemptResult, type SendOptions } from "./send.ts";
import { signedHeaders } from "./signature.ts";
import { attemptTarget, recordAttempt, type AttemptTarget } from "./sql/attempts.ts";
import type { DeliveryStatus } from "./sql/deliveries.ts";

type DeliveryJob = JobWithMetadata<DeliveryJobData>;

/** What an attempt came to; metrics count these. */
export type AttemptOutcome = "succeeded" | "retrying" | "failed" | "refused" | "skipped";

export interface DeliveryWorkerDeps {
  pool: Pool;
  boss: PgBoss;
  log: Logger;
  /** Opens endpoint secrets; a promise, since the key may be read from a file. */
  secrets: () => Promise<SecretBox>;
  send: SendOptions;
  publicBaseUrl: string | undefined;
  pollIntervalSeconds: number;
  /** Told the outcome of every attempt (the place for a metrics counter). */
  onOutcome?: (outcome: AttemptOutcome) => void;
}

// Up to BATCH x LOOPS attempts at once per process; a slow receiver holds one slot for 10 s at most.
const BATCH = 5;
const LOOPS = 2;

/** The webhook-id header: the same for every attempt and every endpoint of one event. */
export function webhookId(eventId: string): string {
  return `msg_${eventId}`;
}

async function sign(deps: DeliveryWorkerDeps, target: AttemptTarget): Promise<{ body: string; headers: Record<string, string> }> {
  const box = await deps.secrets();
  const secrets = [box.open(target.sealed_secret, target.endpoint_id)];
  if (target.sealed_previous_secret) secrets.push(box.open(target.sealed_previous_secret, target.endpoint_id));
  const body = eventBody({ type: target.event_type, createdAt: target.event_created_at, batch: target.batch }, deps.publicBaseUrl);
  return { body, headers: { ...signedHeaders(webhookId(target.event_id), new Date(), body, secrets) } };
}

/**
 * Writes the attempt and settles the job, in one transaction; returns what it came to. A failure
 * goes through pg-boss's fail(), whose backoff decides the next attempt, or that there is none.
 */
async function settle(deps: DeliveryWorkerDeps, job: DeliveryJob, target: AttemptTarget, result: AttemptResult, sent: boolean): Promise<AttemptOutcome> {
  return withRetries(() =>
    withTransaction(deps.pool, async (client) => {
      const db = bossDb(client);
      let status: DeliveryStatus = "SUCCEEDED";
      let nextAttemptAt: Date | null = null;
      if (result.ok) await deps.boss.complete(WEBHOOK_QUEUE, job.id, null, { db });
      else if (!sent) {
        await deps.boss.cancel(WEBHOOK_QUEUE, job.id, { db });
        status = "FAILED";
      } else {
        await deps.boss.fail(WEBHOOK_QUEUE, job.id, { message: result.error }, { db });
        // Read back: the job may also have been taken away meanwhile (expired, and claimed again).
        const [after] = await deps.boss.findJobs(WEBHOOK_QUEUE, { id: job.id, db });
        status = after && (after.state === "retry" || after.state === "created" || after.state === "active") ? "PENDING" : "FAILED";
        nextAttemptAt = after && after.state !== "active" && status === "PENDING" ? after.startAfter : null;
      }
      const disabled = await recordAttempt(client, {
        deliveryId: target.id,
        jobId: job.id,
        sent,
        ok: result.ok,
        status,
        responseStatus: result.status ?? null,
        responseBody: result.body ?? null,
        error: result.error ?? null,
        nextAttemptAt,
      });
      if (disabled) deps.log.warn({ endpointId: target.endpoint_id, reason: disabled }, "webhook endpoint disabled");
      if (result.ok) return "succeeded";
      if (result.refused) return "refused";
      return status === "PENDING" ? "retrying" : "failed";
    }),
  );
}

async function attempt(deps: DeliveryWorkerDeps, job: DeliveryJob): Promise<AttemptOutcome> {
  const target = await attemptTarget(deps.pool, job.data.deliveryId);
  // Gone with its endpoint, handed to a newer job (redelivered), or already settled: nothing to do,
  // and pg-boss completes the job when the handler returns.
  if (!target || target.job_id !== job.id || target.status !== "PENDING") return "skipped";
  const log = deps.log.child({ deliveryId: target.id, endpointId: target.endpoint_id, batchId: target.batch_id, attempt: job.retryCount + 1 });
  if (!target.enabled) {
    const why = target.disabled_reason ? `the endpoint is disabled: ${target.disabled_reason}` : "the endpoint is disabled";
    return settle(deps, job, target, { ok: false, error: why }, false);
  }
  let result: AttemptResult;
  try {
    const { body, headers } = await sign(deps, target);
    result = await sendWebhook(target.url, body, headers, deps.send);
  } catch (error) {
    // A secret that does not open (a changed WEBHOOK_SECRET_KEY) fails the attempt, not the worker.
    result = { ok: false, error: `not sent: ${(error as Error).message}` };
  }
  const outcome = await settle(deps, job, target, result, true);
  log[result.ok ? "debug" : "info"]({ outcome, status: result.status, error: result.error }, "webhook attempt");
  return outcome;
}

export async function startDeliveryWorker(deps: DeliveryWorkerDeps): Promise<void> {
  await deps.boss.work(
    WEBHOOK_QUEUE,
    {
      batchSize: BATCH,
      localConcurrency: LOOPS,
      includeMetadata: true as const,
      pollingIntervalSeconds: deps.pollIntervalSeconds,
      notifyPollingIntervalSeconds: deps.pollIntervalSeconds,
    },
    async (jobs: DeliveryJob[]) => {
      await Promise.all(
        jobs.map(async (job) => {
          try {
            const outcome = await attempt(deps, job);
            deps.onOutcome?.(outcome);
          } catch (error) {
            // pg-boss fails the job and retries it; the delivery row did not record this attempt.
            deps.log.warn({ err: error, deliveryId: job.data.deliveryId }, "webhook attempt could not be recorded");
            throw error;
          }
        }),
      );
    },
  );
}
