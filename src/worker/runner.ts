// runner.ts: the pg-boss work loops, one per task kind, that run handlers and flush their outcomes.
import type { PgBoss } from "pg-boss";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import type { EventHub } from "../events/hub.ts";
import { markStarted, OutcomeBuffer, type Outcome, type StartedTask, type TaskJob } from "./flush.ts";
import { TaskError, type AnyTaskKind } from "./kind.ts";
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
  /** Stops the progress writer; pg-boss's graceful stop has already drained the handlers. */
  stop(): Promise<void>;
}

const CANCELED = Symbol("canceled");

/** Outcomes that finish within this window of each other share one flush transaction. */
const FLUSH_INTERVAL_MS = 50;

function errorOf(error: unknown): { message: string; code: string } {
  if (error instanceof TaskError) return { message: error.message, code: error.code };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : "HANDLER_ERROR" };
  }
  return { message: String(error), code: "HANDLER_ERROR" };
}

/** The running tasks of each batch in this process, so a cancellation can abort them. */
class Cancellations {
  readonly #byBatch = new Map<string, { controllers: Set<AbortController>; unwatch: () => void }>();
  readonly #events: EventHub;

  constructor(events: EventHub) {
    this.#events = events;
  }

  /** A controller aborted (with reason CANCELED) when the task's batch is canceled. */
  register(batchId: string): { signal: AbortSignal; release: () => void } {
    let entry = this.#byBatch.get(batchId);
    if (!entry) {
      const controllers = new Set<AbortController>();
      const unwatch = this.#events.watch(batchId, -1, ({ batch }) => {
        if (batch.status !== "CANCELING" && batch.status !== "CANCELED") return;
        for (const controller of controllers) controller.abort(CANCELED);
      }, { tasks: false });
      entry = { controllers, unwatch };
      this.#byBatch.set(batchId, entry);
    }
    const controller = new AbortController();
    entry.controllers.add(controller);
    const current = entry;
    return {
      signal: controller.signal,
      release: () => {
        current.controllers.delete(controller);
        if (current.controllers.size === 0 && this.#byBatch.get(batchId) === current) {
          current.unwatch();
          this.#byBatch.delete(batchId);
        }
      },
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
): Promise<Outcome> {
  const final = job.retryCount >= job.retryLimit;
  const timeout = AbortSignal.timeout(kind.policy.timeoutSeconds * 1000);
  const cancel = cancellations.register(task.batch_id);
  const signal = AbortSignal.any([job.signal, timeout, cancel.signal]);
  const log = deps.log.child({ batchId: task.batch_id, taskId: task.id, kind: kind.name, attempt });
  try {
    const parsed = kind.input.safeParse(task.input);
    if (!parsed.success) throw new TaskError(`input no longer matches kind "${kind.name}": ${parsed.error.message}`, "INVALID_INPUT");
    // A handler that ignores its signal is not waited for past an abort.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(signal.reason);
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
    return { kind: "succeeded", job, attempt, result };
  } catch (error) {
    if (cancel.signal.aborted) return { kind: "canceled", job, attempt };
    const detail = timeout.aborted
      ? { message: `timed out after ${kind.policy.timeoutSeconds}s`, code: "TIMEOUT" }
      : job.signal.aborted
        ? { message: "the attempt was interrupted (worker stopping or claim lost)", code: "ABORTED" }
        : errorOf(error);
    log.debug({ err: error, final }, "task attempt failed");
    return { kind: "failed", job, attempt, final, error: detail };
  } finally {
    cancel.release();
    progress.forget(task.id);
  }
}

async function handleJobs(deps: WorkerDeps, kind: AnyTaskKind, progress: ProgressBuffer, cancellations: Cancellations, jobs: TaskJob[]): Promise<void> {
  const queue = queueName(kind.name);
  const started = await markStarted(deps.pool, jobs);
  const outcomes = new OutcomeBuffer(deps.pool, deps.boss, queue, FLUSH_INTERVAL_MS);
  await Promise.all(
    jobs.map(async (job) => {
      const run = started.get(job.id);
      outcomes.add(run ? await runTask(deps, kind, job, run, progress, cancellations) : { kind: "skipped", job });
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
      (jobs: TaskJob[]) => handleJobs(deps, kind, progress, cancellations, jobs),
    );
  }
  deps.log.info({ kinds: deps.kinds.all().map((k) => k.name) }, "workers started");
  return { stop: () => progress.stop() };
}
