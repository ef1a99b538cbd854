// flush.ts: writes the outcomes of one fetch in ONE transaction: task rows, batch counters,
// the jobs' settlement in pg-boss and one NOTIFY per touched batch.
import type { Job, JobAttempt, PgBoss } from "pg-boss";
import { applyTransitions, type Transition } from "../batches/transitions.ts";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import type { LockedTask } from "../batches/sql/lockTasks.ts";

export type Outcome =
  | { kind: "succeeded"; job: Job<unknown>; result: unknown }
  | { kind: "failed"; job: Job<unknown>; final: boolean; error: { message: string; code: string } }
  /** The task was already final (a duplicate run): settle the job, touch nothing else. */
  | { kind: "skipped"; job: Job<unknown> };

// Deadlocks, serialization failures and dropped connections are worth another try: the
// transaction rolled back whole, so running it again cannot count anything twice.
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001", "57P01", "57P02", "57P03", "08000", "08003", "08006"]);
const RETRYABLE_MESSAGES = /Connection terminated|ECONNRESET|ECONNREFUSED|connection timeout/i;

export function isRetryableDbError(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (e.code !== undefined && RETRYABLE_SQLSTATES.has(e.code)) || RETRYABLE_MESSAGES.test(e.message ?? "");
}

export async function withRetries<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isRetryableDbError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

const attemptOf = (job: Job<unknown>): JobAttempt => ({ id: job.id, retryCount: job.retryCount });

/** Marks the fetched tasks RUNNING; returns those that may run (the rest are already final). */
export async function markStarted(pool: Pool, jobs: Job<unknown>[]): Promise<Map<string, LockedTask>> {
  const transitions: Transition[] = jobs.map((job) => ({ taskId: job.id, to: "RUNNING", attempt: job.retryCount + 1 }));
  const { moved } = await withRetries(() => withTransaction(pool, (client) => applyTransitions(client, transitions, { withInput: true })));
  return new Map(moved.map((task) => [task.id, task]));
}

export async function flushOutcomes(pool: Pool, boss: PgBoss, queue: string, outcomes: Outcome[]): Promise<void> {
  const transitions: Transition[] = [];
  const completed: JobAttempt[] = [];
  const failed: JobAttempt[] = [];
  for (const outcome of outcomes) {
    const attempt = outcome.job.retryCount + 1;
    if (outcome.kind === "succeeded") {
      transitions.push({ taskId: outcome.job.id, to: "SUCCEEDED", attempt, result: outcome.result ?? null });
      completed.push(attemptOf(outcome.job));
    } else if (outcome.kind === "failed") {
      transitions.push({ taskId: outcome.job.id, to: outcome.final ? "FAILED" : "RETRYING", attempt, error: outcome.error });
      failed.push(attemptOf(outcome.job));
    } else {
      completed.push(attemptOf(outcome.job));
    }
  }
  await withRetries(() =>
    withTransaction(pool, async (client) => {
      await applyTransitions(client, transitions);
      const db = bossDb(client);
      if (completed.length > 0) await boss.complete(queue, completed, null, { db });
      if (failed.length > 0) await boss.fail(queue, failed, null, { db });
    }),
  );
}
