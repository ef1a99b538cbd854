// maintenance.ts: the periodic sweep one worker process at a time runs (an advisory lock picks
// it): expire batches past their completion window, delete batches past retention, and settle
// tasks whose job pg-boss gave up on while no flush of ours was there to see it.
import type { PgBoss } from "pg-boss";
import { cancelJobs } from "../batches/cancel.ts";
import { expiredBatchIds, longRunningTasks, purgeBatches, withMaintenanceLock } from "../batches/sql/maintenance.ts";
import { taskIdsByStatus } from "../batches/sql/lockTasks.ts";
import { applyTransitions, EXPIRED_ERROR, type Transition } from "../batches/transitions.ts";
import type { TaskStatus } from "../batches/rows.ts";
import { withTransaction, type Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { withRetries } from "./flush.ts";
import { queueName } from "./queues.ts";

export interface MaintenanceDeps {
  pool: Pool;
  boss: PgBoss;
  log: Logger;
  intervalMs: number;
  /** By kind: a task RUNNING longer than this many seconds is checked against its job. */
  stuckAfterSeconds: Map<string, number>;
}

export interface Maintenance {
  /** One sweep now (tests and operators); resolves when done. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

const NOT_STARTED: readonly TaskStatus[] = ["QUEUED", "RETRYING"];

async function expireBatches(deps: MaintenanceDeps): Promise<void> {
  for (const batchId of await expiredBatchIds(deps.pool, 100)) {
    await withRetries(() =>
      withTransaction(deps.pool, async (client) => {
        const ids = await taskIdsByStatus(client, batchId, NOT_STARTED);
        if (ids.length === 0) return; // only running tasks left: they finish, then the batch does
        const { moved } = await applyTransitions(
          client,
          ids.map((taskId) => ({ taskId, to: "EXPIRED", from: NOT_STARTED, error: EXPIRED_ERROR })),
        );
        await cancelJobs(deps.boss, client, moved);
        deps.log.info({ batchId, expired: moved.length }, "batch completion window closed");
      }),
    );
  }
}

async function settleAbandoned(deps: MaintenanceDeps): Promise<void> {
  const transitions: Transition[] = [];
  for (const task of await longRunningTasks(deps.pool, deps.stuckAfterSeconds, 200)) {
    const [job] = await deps.boss.findJobs(queueName(task.kind), { id: task.job_id ?? task.id });
    // Active, or waiting for its next attempt: pg-boss still owns it.
    if (job && (job.state === "active" || job.state === "created" || job.state === "retry")) continue;
    const output = job?.output as { message?: unknown } | undefined;
    transitions.push(
      job?.state === "cancelled"
        ? { taskId: task.id, to: "CANCELED", error: { message: "the task's job was cancelled", code: "CANCELED" } }
        : {
            taskId: task.id,
            to: "FAILED",
            error: { message: typeof output?.message === "string" ? output.message : "the task's job ended without a result", code: "ATTEMPTS_EXHAUSTED" },
          },
    );
  }
  if (transitions.length === 0) return;
  await withRetries(() => withTransaction(deps.pool, (client) => applyTransitions(client, transitions)));
  deps.log.warn({ tasks: transitions.length }, "settled tasks whose jobs ended outside a worker's flush");
}

async function sweep(deps: MaintenanceDeps): Promise<void> {
  await withMaintenanceLock(deps.pool, async () => {
    await expireBatches(deps);
    await settleAbandoned(deps);
    const purged = await purgeBatches(deps.pool, 100);
    if (purged > 0) deps.log.info({ batches: purged }, "deleted batches past retention");
  });
}

export function startMaintenance(deps: MaintenanceDeps): Maintenance {
  let running: Promise<void> = Promise.resolve();
  const runOnce = () => {
    running = running.then(() => sweep(deps)).catch((error: unknown) => deps.log.warn({ err: error }, "maintenance sweep failed"));
    return running;
  };
  const timer = setInterval(() => void runOnce(), deps.intervalMs);
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
