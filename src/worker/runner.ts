// runner.ts: the pg-boss work loops, one per task kind, that run handlers and flush their outcomes.
import type { JobWithMetadata, PgBoss } from "pg-boss";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { applyTransitions } from "../batches/transitions.ts";
import { bossDb, withTransaction } from "../db/pool.ts";
import { flushOutcomes, markStarted, withRetries, type Outcome } from "./flush.ts";
import { TaskError, type AnyTaskKind } from "./kind.ts";
import type { LockedTask } from "../batches/sql/lockTasks.ts";
import { ProgressBuffer } from "./progress.ts";
import { DEAD_LETTER_QUEUE, queueName, type TaskJobData } from "./queues.ts";
import type { KindRegistry } from "./registry.ts";

export interface WorkerDeps {
  pool: Pool;
  boss: PgBoss;
  kinds: KindRegistry;
  log: Logger;
  /** Overrides every kind's concurrency when set. */
  concurrency: number | undefined;
  /** How often an idle loop looks for due retries, in seconds. */
  pollIntervalSeconds: number;
}

export interface RunningWorkers {
  /** Stops fetching; in-flight handlers are left to pg-boss's graceful stop. */
  stop(): Promise<void>;
}

function errorOf(error: unknown): { message: string; code: string } {
  if (error instanceof TaskError) return { message: error.message, code: error.code };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : "HANDLER_ERROR" };
  }
  return { message: String(error), code: "HANDLER_ERROR" };
}

/** Runs one task's handler, bounded by the kind's timeout and the job's own signal. */
async function runTask(
  deps: WorkerDeps,
  kind: AnyTaskKind,
  job: JobWithMetadata<TaskJobData>,
  task: LockedTask,
  progress: ProgressBuffer,
): Promise<Outcome> {
  const attempt = job.retryCount + 1;
  const final = job.retryCount >= job.retryLimit;
  const timeout = AbortSignal.timeout(kind.policy.timeoutSeconds * 1000);
  const signal = AbortSignal.any([job.signal, timeout]);
  const log = deps.log.child({ batchId: task.batch_id, taskId: task.id, kind: kind.name, attempt });
  try {
    const parsed = kind.input.safeParse(task.input);
    if (!parsed.success) throw new TaskError(`input no longer matches kind "${kind.name}": ${parsed.error.message}`, "INVALID_INPUT");
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(timeout.aborted ? new TaskError(`timed out after ${kind.policy.timeoutSeconds}s`, "TIMEOUT") : new TaskError("aborted", "ABORTED"));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    const result = await Promise.race([
      Promise.resolve().then(() =>
        kind.run(parsed.data, {
          signal,
          attempt,
          taskId: task.id,
          batchId: task.batch_id,
          customId: task.custom_id,
          progress: (fraction) => progress.report(task.id, fraction),
          log,
        }),
      ),
      aborted,
    ]);
    return { kind: "succeeded", job, result };
  } catch (error) {
    const detail = errorOf(error);
    log.debug({ err: error, final }, "task attempt failed");
    return { kind: "failed", job, final, error: detail };
  } finally {
    progress.forget(task.id);
  }
}

async function handleJobs(deps: WorkerDeps, kind: AnyTaskKind, progress: ProgressBuffer, jobs: JobWithMetadata<TaskJobData>[]): Promise<void> {
  const runnable = await markStarted(deps.pool, jobs);
  const outcomes = await Promise.all(
    jobs.map((job): Promise<Outcome> | Outcome => {
      const task = runnable.get(job.id);
      return task ? runTask(deps, kind, job, task, progress) : { kind: "skipped", job };
    }),
  );
  await flushOutcomes(deps.pool, deps.boss, queueName(kind.name), outcomes);
}

/**
 * Jobs pg-boss failed for good without our flush (an expired claim on its last attempt, a
 * shutdown that outlived its grace) reach the dead-letter queue; their tasks end FAILED here.
 * Tasks our flush already failed are final and are left alone.
 */
async function handleDeadLetters(deps: WorkerDeps, jobs: JobWithMetadata<TaskJobData>[]): Promise<void> {
  await withRetries(() =>
    withTransaction(deps.pool, async (client) => {
      await applyTransitions(
        client,
        jobs.map((job) => {
          const output = job.sourceOutput as { message?: unknown } | null;
          const message = typeof output?.message === "string" ? output.message : "the task's job failed outside its handler";
          return {
            taskId: job.data.taskId,
            to: "FAILED" as const,
            attempt: (job.sourceRetryCount ?? 0) + 1,
            error: { message, code: "ATTEMPTS_EXHAUSTED" },
          };
        }),
      );
      await deps.boss.complete(DEAD_LETTER_QUEUE, jobs.map((job) => ({ id: job.id, retryCount: job.retryCount })), null, { db: bossDb(client) });
    }),
  );
}

export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const progress = new ProgressBuffer(deps.pool, deps.log);
  const workIds: string[] = [];
  for (const kind of deps.kinds.all()) {
    const concurrency = deps.concurrency ?? kind.policy.concurrency;
    const batchSize = Math.min(kind.policy.batchSize, concurrency);
    const id = await deps.boss.work(
      queueName(kind.name),
      {
        batchSize,
        localConcurrency: Math.max(1, Math.ceil(concurrency / batchSize)),
        burstWhenBatchFull: batchSize > 1,
        includeMetadata: true as const,
        // NOTIFY wakes a loop for new jobs; polling finds retries whose delay has passed.
        pollingIntervalSeconds: deps.pollIntervalSeconds,
        notifyPollingIntervalSeconds: deps.pollIntervalSeconds,
      },
      (jobs: JobWithMetadata<TaskJobData>[]) => handleJobs(deps, kind, progress, jobs),
    );
    workIds.push(id);
  }
  await deps.boss.work(DEAD_LETTER_QUEUE, { batchSize: 100, includeMetadata: true as const, pollingIntervalSeconds: 5 }, (jobs: JobWithMetadata<TaskJobData>[]) =>
    handleDeadLetters(deps, jobs),
  );
  deps.log.info({ kinds: deps.kinds.all().map((k) => k.name) }, "workers started");
  return {
    stop: () => progress.stop(),
  };
}
