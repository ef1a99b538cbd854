// flush.ts: the worker's two transactions per fetch: marking the fetched tasks RUNNING, and
// writing their outcomes in ONE transaction with the jobs' settlement in pg-boss, the batch
// counters and one NOTIFY per touched batch.
import type { JobAttempt, JobWithMetadata, PgBoss } from "pg-boss";
import { applyTransitions, CANCELED_ERROR, type Transition } from "../batches/transitions.ts";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import type { LockedTask } from "../batches/sql/lockTasks.ts";
import type { TaskJobData } from "./queues.ts";

export type TaskJob = JobWithMetadata<TaskJobData>;

export type Outcome =
  | { kind: "succeeded"; job: TaskJob; attempt: number; result: unknown }
  | { kind: "failed"; job: TaskJob; attempt: number; final: boolean; error: { message: string; code: string } }
  | { kind: "canceled"; job: TaskJob; attempt: number }
  /** The task did not run (already final, or its batch was canceled or expired): settle the job only. */
  | { kind: "skipped"; job: TaskJob };

// Deadlocks, serialization failures and dropped connections are worth another try: the
// transaction rolled back whole, so running it again cannot count anything twice.
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001", "57P01", "57P02", "57P03", "08000", "08003", "08006"]);
const RETRYABLE_MESSAGES = /Connection terminated|ECONNRESET|ECONNREFUSED|connection timeout/i;

export function isRetryableDbError(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (e.code !== undefined && RETRYABLE_SQLSTATES.has(e.code)) || RETRYABLE_MESSAGES.test(e.message ?? "");
}

export async function withRetries<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isRetryableDbError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

const attemptOf = (job: TaskJob): JobAttempt => ({ id: job.id, retryCount: job.retryCount });

export interface StartedTask {
  task: LockedTask;
  attempt: number;
}

/** Marks the fetched tasks RUNNING; returns, by job id, those that may run. */
export async function markStarted(pool: Pool, jobs: TaskJob[]): Promise<Map<string, StartedTask>> {
  const transitions: Transition[] = jobs.map((job) => ({ taskId: job.data.taskId, to: "RUNNING", jobId: job.id }));
  const { moved } = await withRetries(() => withTransaction(pool, (client) => applyTransitions(client, transitions, { withInput: true })));
  const jobIdByTask = new Map(jobs.map((job) => [job.data.taskId, job.id]));
  const started = new Map<string, StartedTask>();
  for (const { task, to, attempt } of moved) {
    if (to === "RUNNING") started.set(jobIdByTask.get(task.id)!, { task, attempt });
  }
  return started;
}

export async function flushOutcomes(pool: Pool, boss: PgBoss, queue: string, outcomes: Outcome[]): Promise<void> {
  const transitions: Transition[] = [];
  const completed: JobAttempt[] = [];
  const failed: JobAttempt[] = [];
  const canceled: JobAttempt[] = [];
  for (const outcome of outcomes) {
    const taskId = outcome.job.data.taskId;
    switch (outcome.kind) {
      case "succeeded":
        transitions.push({ taskId, to: "SUCCEEDED", attempt: outcome.attempt, result: outcome.result ?? null });
        completed.push(attemptOf(outcome.job));
        break;
      case "failed":
        transitions.push({ taskId, to: outcome.final ? "FAILED" : "RETRYING", attempt: outcome.attempt, error: outcome.error });
        failed.push(attemptOf(outcome.job));
        break;
      case "canceled":
        transitions.push({ taskId, to: "CANCELED", attempt: outcome.attempt, error: CANCELED_ERROR });
        canceled.push(attemptOf(outcome.job));
        break;
      case "skipped":
        completed.push(attemptOf(outcome.job));
        break;
    }
  }
  await withRetries(() =>
    withTransaction(pool, async (client) => {
      await applyTransitions(client, transitions);
      const db = bossDb(client);
      if (completed.length > 0) await boss.complete(queue, completed, null, { db });
      if (failed.length > 0) await boss.fail(queue, failed, null, { db });
      if (canceled.length > 0) await boss.cancel(queue, canceled, { db });
    }),
  );
}

/**
 * Gathers the outcomes of one fetch as its tasks finish and flushes them in batches: a task that
 * finishes early is written (and reaches subscribers) within `intervalMs`, not when the slowest
 * task of its fetch is done; tasks finishing together share one transaction.
 */
export class OutcomeBuffer {
  readonly #pool: Pool;
  readonly #boss: PgBoss;
  readonly #queue: string;
  readonly #intervalMs: number;
  #pending: Outcome[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(pool: Pool, boss: PgBoss, queue: string, intervalMs: number) {
    this.#pool = pool;
    this.#boss = boss;
    this.#queue = queue;
    this.#intervalMs = intervalMs;
  }

  add(outcome: Outcome): void {
    this.#pending.push(outcome);
    this.#timer ??= setTimeout(() => this.#flush(), this.#intervalMs);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const outcomes = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(() =>
      flushOutcomes(this.#pool, this.#boss, this.#queue, outcomes).catch((error: unknown) => {
        this.#failure ??= error;
      }),
    );
  }

  /** Flushes what is left; throws if any flush failed (pg-boss then fails the unsettled jobs). */
  async close(): Promise<void> {
    this.#flush();
    await this.#flushing;
    if (this.#failure) throw this.#failure;
  }
}
