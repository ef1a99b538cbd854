// runner.ts: the pg-boss work loops, one per task kind, that run handlers and flush their outcomes.
import type { PgBoss } from "pg-boss";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import type { EventHub } from "../events/hub.ts";
import { flushOutcomes, OutcomeBuffer, readForRun, type Outcome, type StartedTask, type TaskJob } from "./flush.ts";
import { TaskError, type AnyTaskKind, type TaskContext } from "./kind.ts";
import { ProgressBuffer } from "./progress.ts";
import { queueName } from "./queues.ts";
import type { KindRegistry } from "./registry.ts";

export interface WorkerDeps {
  pool: Pool;
  boss: PgBoss;
  kinds: KindRegistry;
  log: Logger;
  /** Tells this process when a batch it runs tasks of is canceled. */
  events: EventHub;
  /** Overrides every kind's concurrency when set. */
  concurrency: number | undefined;
  /** How often an idle loop looks for due retries, in seconds. */
  pollIntervalSeconds: number;
}

export interface RunningWorkers {
  /**
   * Waits for the handlers still writing outcomes, then stops the progress writer. Called after
   * pg-boss's graceful stop, which aborts the handlers still running when its grace ends: their
   * outcomes (ABORTED, to run again) must be written before the pool closes.
   */
  stop(): Promise<void>;
}

/** How long a stop waits for aborted handlers to write their outcomes. */
const OUTCOME_WRITE_GRACE_MS = 5_000;

/** Outcomes that finish within this window of each other share one flush transaction. */
const FLUSH_INTERVAL_MS = 50;

/** An upper-case string `code` on the error or along its `cause` chain (fetch's "fetch failed" carries ECONNREFUSED there). */
function systemCode(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  return systemCode(error.cause, depth + 1);
}

function errorOf(error: unknown): { message: string; code: string } {
  if (error instanceof TaskError) return { message: error.message, code: error.code };
  if (error instanceof Error) {
    const code = systemCode(error);
    const cause = error.cause instanceof Error && code !== undefined && !error.message.includes(code) ? `: ${error.cause.message}` : "";
    return { message: `${error.message}${cause}`, code: code ?? "HANDLER_ERROR" };
  }
  return { message: String(error), code: "HANDLER_ERROR" };
}

/** Why a task's signal was aborted. */
const Abort = { CANCELED: "canceled", TIMEOUT: "timeout", INTERRUPTED: "interrupted" } as const;
type Abort = (typeof Abort)[keyof typeof Abort];

/** The running tasks of each batch in this process, so a cancellation can abort them. */
class Cancellations {
  readonly #byBatch = new Map<string, { controllers: Set<AbortController>; unwatch: () => void }>();
  readonly #events: EventHub;

  constructor(events: EventHub) {
    this.#events = events;
  }

  /** Aborts `controller` (reason CANCELED) if the batch is canceled before `release` is called. */
  register(batchId: string, controller: AbortController): () => void {
    let entry = this.#byBatch.get(batchId);
    if (!entry) {
      const controllers = new Set<AbortController>();
      const unwatch = this.#events.watch(
        batchId,
        -1,
        ({ batch }) => {
          if (batch.status !== "CANCELING" && batch.status !== "CANCELED") return;
          for (const running of controllers) running.abort(Abort.CANCELED);
        },
        { tasks: false },
      );
      entry = { controllers, unwatch };
      this.#byBatch.set(batchId, entry);
    }
    entry.controllers.add(controller);
    const current = entry;
    return () => {
      current.controllers.delete(controller);
      if (current.controllers.size === 0 && this.#byBatch.get(batchId) === current) {
        current.unwatch();
        this.#byBatch.delete(batchId);
      }
    };
  }
}

/** Runs one task's handler, bounded by the kind's timeout, the job's signal and cancellation. */
async function runTask(
  deps: WorkerDeps,
  kind: AnyTaskKind,
  job: TaskJob,
  { task, attempt }: StartedTask,
  progress: ProgressBuffer,
  cancellations: Cancellations,
  outcomes: OutcomeBuffer,
  /** When RUNNING was already written for this attempt (a last attempt), its start time. */
  reportedStart: Date | undefined,
): Promise<Outcome> {
  const final = isLastAttempt(job);
  const startedAt = reportedStart ?? new Date();
  if (!reportedStart) outcomes.started(job, attempt, startedAt);
  // One controller per task: the timeout, pg-boss's signal (shutdown, lost claim) and a
  // cancellation each abort it with their reason. Everything is released when the task ends.
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(() => controller.abort(Abort.TIMEOUT), kind.policy.timeoutSeconds * 1000);
  const onInterrupt = () => controller.abort(Abort.INTERRUPTED);
  job.signal.addEventListener("abort", onInterrupt, { once: true });
  const release = cancellations.register(task.batch_id, controller);
  let log: Logger | undefined;
  const taskLog = () => (log ??= deps.log.child({ batchId: task.batch_id, taskId: task.id, kind: kind.name, attempt }));
  try {
    if (job.signal.aborted) onInterrupt();
    const parsed = kind.input.safeParse(task.input);
    if (!parsed.success) throw new TaskError(`input no longer matches kind "${kind.name}": ${parsed.error.message}`, "INVALID_INPUT");
    // A handler that ignores its signal is not waited for past an abort.
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    const context: TaskContext = {
      signal,
      attempt,
      taskId: task.id,
      batchId: task.batch_id,
      customId: task.custom_id,
      progress: (fraction) => progress.report(task.id, fraction),
      get log() {
        return taskLog();
      },
    };
    const result = await Promise.race([Promise.resolve().then(() => kind.run(parsed.data, context)), aborted]);
    return { kind: "succeeded", job, attempt, startedAt, result };
  } catch (error) {
    const reason = signal.aborted ? (signal.reason as Abort) : undefined;
    if (reason === Abort.CANCELED) return { kind: "canceled", job, attempt, startedAt };
    const detail =
      reason === Abort.TIMEOUT
        ? { message: `timed out after ${kind.policy.timeoutSeconds}s`, code: "TIMEOUT" }
        : reason === Abort.INTERRUPTED
          ? { message: "the attempt was interrupted (worker stopping or claim lost)", code: "ABORTED" }
          : errorOf(error);
    taskLog().debug({ err: error, final }, "task attempt failed");
    return { kind: "failed", job, attempt, startedAt, final, error: detail };
  } finally {
    clearTimeout(timer);
    job.signal.removeEventListener("abort", onInterrupt);
    release();
    progress.forget(task.id);
  }
}

const isLastAttempt = (job: TaskJob) => job.retryCount >= job.retryLimit;

async function handleJobs(deps: WorkerDeps, kind: AnyTaskKind, progress: ProgressBuffer, cancellations: Cancellations, jobs: TaskJob[]): Promise<void> {
  const queue = queueName(kind.name);
  const pickups = await readForRun(deps.pool, jobs);
  // A last attempt is written RUNNING before it starts. Should this process die before the
  // outcome is written, pg-boss fails the job for good, and the maintenance sweep settles only
  // tasks it finds RUNNING: left QUEUED, the task would wait for its completion window to close.
  const reported = new Map<string, Date>();
  const lastAttempts: Outcome[] = [];
  for (const job of jobs) {
    const pickup = pickups.get(job.id)!;
    if (!("run" in pickup) || !isLastAttempt(job)) continue;
    const startedAt = new Date();
    reported.set(job.id, startedAt);
    lastAttempts.push({ kind: "running", job, attempt: pickup.run.attempt, startedAt });
  }
  if (lastAttempts.length > 0) await flushOutcomes(deps.pool, deps.boss, queue, lastAttempts);
  const outcomes = new OutcomeBuffer(deps.pool, deps.boss, queue, FLUSH_INTERVAL_MS);
  await Promise.all(
    jobs.map(async (job) => {
      const pickup = pickups.get(job.id)!;
      if ("run" in pickup) outcomes.add(await runTask(deps, kind, job, pickup.run, progress, cancellations, outcomes, reported.get(job.id)));
      else if ("end" in pickup) outcomes.add({ kind: "ended", job, to: pickup.end });
      else outcomes.add({ kind: "skipped", job });
    }),
  );
  await outcomes.close();
  // pg-boss fetches again at once only after a full batch; after a partial one it would wait out
  // the polling interval although more jobs may be ready (retries, or a concurrency of 1). A
  // notified loop skips that wait; a loop that then finds nothing waits as usual.
  for (const worker of deps.boss.getWipData()) if (worker.name === queue) deps.boss.notifyWorker(worker.id);
}

export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const progress = new ProgressBuffer(deps.pool, deps.log);
  const cancellations = new Cancellations(deps.events);
  const inFlight = new Set<Promise<void>>();
  for (const kind of deps.kinds.all()) {
    const concurrency = deps.concurrency ?? kind.policy.concurrency;
    const batchSize = Math.min(kind.policy.batchSize, concurrency);
    await deps.boss.work(
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
      (jobs: TaskJob[]) => {
        const handling = handleJobs(deps, kind, progress, cancellations, jobs);
        inFlight.add(handling);
        void handling.then(
          () => inFlight.delete(handling),
          () => inFlight.delete(handling),
        );
        return handling;
      },
    );
  }
  deps.log.info({ kinds: deps.kinds.all().map((k) => k.name) }, "workers started");
  return {
    stop: async () => {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise((resolve) => (timer = setTimeout(resolve, OUTCOME_WRITE_GRACE_MS)));
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      clearTimeout(timer);
      await progress.stop();
    },
  };
}
