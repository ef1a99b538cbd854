// transitions.ts: moves tasks between statuses with exactly-once accounting, inside a caller's transaction.
//
// pg-boss may run a task twice (an expired claim, a crash). Every status change therefore goes
// through applyTransitions: it locks the tasks (in id order), skips the moves that are no longer
// valid (a task already final, an attempt older than the one recorded), counts only the moves it
// makes, bumps each touched batch once (new version, one NOTIFY), and stamps the moved tasks with
// that version. Batch counters thus always equal count(*) by status.
import type { PoolClient } from "../db/pool.ts";
import { bumpBatches, type BumpedBatch, type CounterDelta } from "./sql/bumpBatches.ts";
import { lockTasks, type LockedTask } from "./sql/lockTasks.ts";
import { updateTasks } from "./sql/updateTasks.ts";
import type { TaskStatus } from "./rows.ts";

export const FINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(["SUCCEEDED", "FAILED", "CANCELED"]);

export interface Transition {
  taskId: string;
  to: TaskStatus;
  /** The attempt this change comes from; older attempts cannot overwrite newer ones. */
  attempt: number;
  result?: unknown;
  error?: { message: string; code: string };
}

export interface TransitionOutcome {
  /** Tasks that moved, with their state before the move. */
  moved: LockedTask[];
  batches: BumpedBatch[];
}

const COUNTER: Record<TaskStatus, keyof Omit<CounterDelta, "batchId">> = {
  QUEUED: "queued",
  RUNNING: "running",
  RETRYING: "retrying",
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  CANCELED: "canceled",
};

export function zeroDelta(batchId: string): CounterDelta {
  return { batchId, queued: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, canceled: 0 };
}

function mayMove(task: LockedTask, transition: Transition): boolean {
  if (FINAL_TASK_STATUSES.has(task.status)) return false;
  if (FINAL_TASK_STATUSES.has(transition.to)) return true;
  // RUNNING or RETRYING from an attempt older than the latest one recorded is stale news.
  return transition.attempt >= task.attempts;
}

export async function applyTransitions(
  client: PoolClient,
  transitions: Transition[],
  options: { withInput?: boolean } = {},
): Promise<TransitionOutcome> {
  if (transitions.length === 0) return { moved: [], batches: [] };
  const byId = new Map(transitions.map((t) => [t.taskId, t]));
  const locked = await lockTasks(client, [...byId.keys()], options.withInput ?? false);

  const moved: LockedTask[] = [];
  const deltas = new Map<string, CounterDelta>();
  for (const task of locked) {
    const transition = byId.get(task.id);
    if (!transition || !mayMove(task, transition)) continue;
    moved.push(task);
    let delta = deltas.get(task.batch_id);
    if (!delta) deltas.set(task.batch_id, (delta = zeroDelta(task.batch_id)));
    if (task.status === transition.to) continue;
    delta[COUNTER[task.status]] -= 1;
    delta[COUNTER[transition.to]] += 1;
  }
  if (moved.length === 0) return { moved, batches: [] };

  const batches = await bumpBatches(client, [...deltas.values()]);
  const versions = new Map(batches.map((b) => [b.id, b.version]));
  await updateTasks(
    client,
    moved.map((task) => {
      const transition = byId.get(task.id)!;
      return {
        id: task.id,
        status: transition.to,
        attempts: Math.max(task.attempts, transition.attempt),
        result: transition.result === undefined ? null : JSON.stringify(transition.result),
        error: transition.error ? JSON.stringify(transition.error) : null,
        batchVersion: versions.get(task.batch_id) ?? 0,
      };
    }),
  );
  return { moved, batches };
}
