// queue.ts: the pg-boss queue of webhook attempts and its retry schedule: one job per delivery,
// retried with exponential backoff for more than 24 hours, then the delivery is FAILED.
import type { JobInsert, PgBoss } from "pg-boss";

export const WEBHOOK_QUEUE = "webhook.delivery";

export interface DeliveryJobData {
  deliveryId: string;
}

/** Retries after the first attempt: 17 attempts in all. */
export const RETRY_LIMIT = 16;
/** The longest wait between two attempts, as a multiple of the base delay: 4 hours at 10 s. */
const MAX_DELAY_FACTOR = 1_440;
/** WEBHOOK_RETRY_BASE_SECONDS' default: the first retry comes 10 to 20 s after the first failure. */
export const DEFAULT_RETRY_BASE_SECONDS = 10;
/** An attempt takes at most 10 s; a job active for longer than this lost its worker. */
const ATTEMPT_EXPIRY_SECONDS = 60;
// The deliveries table is the record; a finished job is kept a day for operators.
const FINISHED_JOB_SECONDS = 24 * 3600;

function retryOptions(baseSeconds: number) {
  return { retryLimit: RETRY_LIMIT, retryDelay: baseSeconds, retryBackoff: true, retryDelayMax: baseSeconds * MAX_DELAY_FACTOR };
}

/**
 * The wait before each retry, as pg-boss computes it (plans.ts failJobsBody): retry n waits
 * base * 2^(n-1) * (1 + random()), at most base * MAX_DELAY_FACTOR. The README's table is this.
 */
export function retrySchedule(baseSeconds: number): { minSeconds: number; maxSeconds: number }[] {
  const cap = baseSeconds * MAX_DELAY_FACTOR;
  return Array.from({ length: RETRY_LIMIT }, (_, i) => ({
    minSeconds: Math.min(cap, baseSeconds * 2 ** i),
    maxSeconds: Math.min(cap, baseSeconds * 2 ** (i + 1)),
  }));
}

export function deliveryJob(deliveryId: string, jobId: string, retryBaseSeconds: number): JobInsert<DeliveryJobData> {
  return { id: jobId, data: { deliveryId }, expireInSeconds: ATTEMPT_EXPIRY_SECONDS, ...retryOptions(retryBaseSeconds) };
}

export async function ensureWebhookQueue(boss: PgBoss, retryBaseSeconds: number): Promise<void> {
  const options = {
    ...retryOptions(retryBaseSeconds),
    expireInSeconds: ATTEMPT_EXPIRY_SECONDS,
    deleteAfterSeconds: FINISHED_JOB_SECONDS,
    notify: true,
  };
  if (await boss.getQueue(WEBHOOK_QUEUE)) await boss.updateQueue(WEBHOOK_QUEUE, options);
  else await boss.createQueue(WEBHOOK_QUEUE, options).catch(async (error: unknown) => {
    // Another process created it between our read and our create.
    if (!(await boss.getQueue(WEBHOOK_QUEUE))) throw error;
  });
}
