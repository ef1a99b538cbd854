// flush.ts: the worker's two transactions per fetch: marking the fetched tasks RUNNING, and
// writing their outcomes in ONE transaction with the jobs' settlement in pg-boss, the batch
// counters and one NOTIFY per touched batch.
import type { JobAttempt, JobWithMetadata, PgBoss } from "pg-boss";
import { applyTransitions, CANCELED_ERROR, EXPIRED_ERROR, FINAL_TASK_STATUSES, type Transition } from "../batches/transitions.ts";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import { readTasks, type LockedTask } from "../batches/sql/lockTasks.ts";
import type { TaskJobData } from "./queues.ts";

export type TaskJob = JobWithMetadata<TaskJobData>;

export type Outcome =
  /** Still running after the flush interval: RUNNING is written (fast tasks skip it). */
  | { kind: "running"; job: TaskJob; attempt: number; startedAt: Date }
  | { kind: "succeeded"; job: TaskJob; attempt: number; startedAt: Date; result: unknown }
  | { kind: "failed"; job: TaskJob; attempt: number; startedAt: Date; final: boolean; error: { message: string; code: string } }
  | { kind: "canceled"; job: TaskJob; attempt: number; startedAt: Date }
  /** Not run: its batch was canceled or its window closed before it started. */
  | { kind: "ended"; job: TaskJob; to: "CANCELED" | "EXPIRED" }
  /** Not run: the task was already final (a duplicate delivery). Settle the job only. */
  | { kind: "skipped"; job: TaskJob };

// Deadlocks, serialization failures and dropped connections are worth another try: the
// transaction rolled back whole, so running it again cannot count anything twice.
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001", "57P01", "57P02", "57P03", "08000", "08003", "08006"]);
const RETRYABLE_MESSAGES = /Connection terminated|ECONNRESET|ECONNREFUSED|connection timeout/i;

function isRetryableDbError(error: unknown): boolean {
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
  /** The attempt this run is: one more than those recorded. */
  attempt: number;
}

export type Pickup = { run: StartedTask } | { end: "CANCELED" | "EXPIRED" } | { skip: true };

/**
 * Reads the fetched tasks (inputs, statuses, their batches') without writing anything: a task
 * that finishes within the flush interval goes from QUEUED to its outcome in one write. The
 * flush re-checks everything under lock, so a change made meanwhile (a cancel) still wins.
 */
export async function readForRun(pool: Pool, jobs: TaskJob[]): Promise<Map<string, Pickup>> {
  const tasks = new Map((await withRetries(() => readTasks(pool, jobs.map((job) => job.data.taskId)))).map((t) => [t.id, t]));
  const pickups = new Map<string, Pickup>();
  for (const job of jobs) {
    const task = tasks.get(job.data.taskId);
    if (!task || FINAL_TASK_STATUSES.has(task.status)) pickups.set(job.id, { skip: true });
    else if (task.batch_status === "CANCELING" || task.batch_status === "CANCELED") pickups.set(job.id, { end: "CANCELED" });
    else if (task.batch_expired || task.batch_status === "EXPIRED") pickups.set(job.id, { end: "EXPIRED" });
    // pg-boss counts claims after a started one: an attempt cut short before anything was
    // written (a crash) still counts. A redriven job starts again at 0; the task keeps counting.
    else pickups.set(job.id, { run: { task, attempt: Math.max(task.attempts, job.retryCount) + 1 } });
  }
  return pickups;
}

export async function flushOutcomes(pool: Pool, boss: PgBoss, queue: string, outcomes: Outcome[]): Promise<void> {
  const transitions: Transition[] = [];
  const completed: JobAttempt[] = [];
  const failed: JobAttempt[] = [];
  const canceled: JobAttempt[] = [];
  for (const outcome of outcomes) {
    const taskId = outcome.job.data.taskId;
    const jobId = outcome.job.id;
    switch (outcome.kind) {
      case "running":
        transitions.push({ taskId, to: "RUNNING", attempt: outcome.attempt, jobId, startedAt: outcome.startedAt });
        break;
      case "succeeded":
        transitions.push({ taskId, to: "SUCCEEDED", attempt: outcome.attempt, jobId, startedAt: outcome.startedAt, result: outcome.result ?? null });
        completed.push(attemptOf(outcome.job));
        break;
      case "failed":
        transitions.push({
          taskId,
          to: outcome.final ? "FAILED" : "RETRYING",
          attempt: outcome.attempt,
          jobId,
          startedAt: outcome.startedAt,
          error: outcome.error,
        });
        failed.push(attemptOf(outcome.job));
        break;
      case "canceled":
        transitions.push({ taskId, to: "CANCELED", attempt: outcome.attempt, jobId, startedAt: outcome.startedAt, error: CANCELED_ERROR });
        canceled.push(attemptOf(outcome.job));
        break;
      case "ended":
        transitions.push({ taskId, to: outcome.to, error: outcome.to === "CANCELED" ? CANCELED_ERROR : EXPIRED_ERROR });
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
 * task of its fetch is done; tasks finishing together share one transaction. A task still
 * running at a flush is written RUNNING then; one that finishes sooner never is.
 */
export class OutcomeBuffer {
  readonly #pool: Pool;
  readonly #boss: PgBoss;
  readonly #queue: string;
  readonly #intervalMs: number;
  #pending: Outcome[] = [];
  /** Started, not finished, RUNNING not yet written. */
  readonly #unreported = new Map<string, Extract<Outcome, { kind: "running" }>>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(pool: Pool, boss: PgBoss, queue: string, intervalMs: number) {
    this.#pool = pool;
    this.#boss = boss;
    this.#queue = queue;
    this.#intervalMs = intervalMs;
  }

  /** A task started: RUNNING is written at the next flush if it has not finished by then. */
  started(job: TaskJob, attempt: number, startedAt: Date): void {
    this.#unreported.set(job.id, { kind: "running", job, attempt, startedAt });
    this.#arm();
  }

  add(outcome: Outcome): void {
    this.#unreported.delete(outcome.job.id);
    this.#pending.push(outcome);
    this.#arm();
  }

  #arm(): void {
    this.#timer ??= setTimeout(() => this.#flush(), this.#intervalMs);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const outcomes = [...this.#unreported.values(), ...this.#pending];
    this.#unreported.clear();
    this.#pending = [];
    if (outcomes.length === 0) return;
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
