// transitions.ts: moves tasks between statuses with exactly-once accounting, inside a caller's transaction.
//
// pg-boss may run a task twice (an expired claim, a crash). Every status change therefore goes
// through applyTransitions: it locks the tasks (in id order), skips the moves that are no longer
// valid (a task already final, news from an attempt older than the latest), counts only the
// moves it makes, bumps each touched batch once (new version, one NOTIFY), and stamps the moved
// tasks with that version. Batch counters thus always equal count(*) by status.
import type { PoolClient } from "../db/pool.ts";
import { bumpBatches, type BumpedBatch, type CounterDelta } from "./sql/bumpBatches.ts";
import { lockTasks, type LockedTask } from "./sql/lockTasks.ts";
import type { TaskStatus } from "./rows.ts";

export const FINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(["SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"]);

export interface Transition {
  taskId: string;
  to: TaskStatus;
  /** The attempt this news comes from; RUNNING starts at least attempt `attempts + 1`. */
  attempt?: number;
  /** The pg-boss job that ran (or runs) this attempt. */
  jobId?: string;
  /** When this attempt started, if it ran; it may end without RUNNING ever being written. */
  startedAt?: Date;
  result?: unknown;
  error?: { message: string; code: string };
  /** Move only from these statuses (may be final ones: retryFailedTasks moves FAILED tasks). */
  from?: readonly TaskStatus[];
}

export interface MovedTask {
  task: LockedTask;
  to: TaskStatus;
  attempt: number;
}

export interface TransitionOutcome {
  moved: MovedTask[];
  batches: BumpedBatch[];
}

export interface TransitionOptions {
  /** Also read the tasks' inputs (for the worker that is about to run them). */
  withInput?: boolean;
  /** Batches to bump even if no task moves, with a status request (cancel, reopen). */
  batches?: { batchId: string; status?: CounterDelta["status"] }[];
}

const COUNTER: Record<TaskStatus, keyof Omit<CounterDelta, "batchId" | "status">> = {
  QUEUED: "queued",
  RUNNING: "running",
  RETRYING: "retrying",
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  CANCELED: "canceled",
  EXPIRED: "expired",
};

export function zeroDelta(batchId: string): CounterDelta {
  return { batchId, queued: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, canceled: 0, expired: 0 };
}

type TaskError = NonNullable<Transition["error"]>;

export const CANCELED_ERROR: TaskError = { message: "the batch was canceled", code: "CANCELED" };
export const EXPIRED_ERROR: TaskError = { message: "not started within the batch's completion window", code: "EXPIRED" };

/** Where a transition really goes, or undefined when it no longer applies. */
function resolve(task: LockedTask, transition: Transition): { to: TaskStatus; attempt: number } | undefined {
  if (transition.from) {
    return transition.from.includes(task.status) ? { to: transition.to, attempt: task.attempts } : undefined;
  }
  if (FINAL_TASK_STATUSES.has(task.status)) return undefined;
  // A worker reports a start it already made (it checked the batch before it ran the task).
  if (transition.to === "RUNNING") return { to: "RUNNING", attempt: Math.max(task.attempts + 1, transition.attempt ?? 0) };
  const attempt = transition.attempt ?? task.attempts;
  if (!FINAL_TASK_STATUSES.has(transition.to) && attempt < task.attempts) return undefined; // stale news
  return { to: transition.to, attempt };
}

export async function applyTransitions(client: PoolClient, transitions: Transition[], options: TransitionOptions = {}): Promise<TransitionOutcome> {
  const deltas = new Map<string, CounterDelta>();
  for (const { batchId, status } of options.batches ?? []) deltas.set(batchId, { ...zeroDelta(batchId), status });

  const byId = new Map(transitions.map((t) => [t.taskId, t]));
  const locked = byId.size > 0 ? await lockTasks(client, [...byId.keys()], options.withInput ?? false) : [];
  const moved: MovedTask[] = [];
  for (const task of locked) {
    const transition = byId.get(task.id);
    const next = transition && resolve(task, transition);
    if (!next) continue;
    moved.push({ task, ...next });
    let delta = deltas.get(task.batch_id);
    if (!delta) deltas.set(task.batch_id, (delta = zeroDelta(task.batch_id)));
    if (task.status === next.to) continue;
    delta[COUNTER[task.status]] -= 1;
    delta[COUNTER[next.to]] += 1;
  }
  if (deltas.size === 0) return { moved, batches: [] };

  const batches = await bumpBatches(
    client,
    [...deltas.values()],
    moved.map(({ task, to, attempt }) => {
      const transition = byId.get(task.id)!;
      return {
        id: task.id,
        batchId: task.batch_id,
        status: to,
        attempts: attempt,
        jobId: transition.jobId ?? task.job_id,
        startedAt: transition.startedAt ?? null,
        result: transition.result === undefined ? null : JSON.stringify(transition.result),
        error: transition.error ? JSON.stringify(transition.error) : null,
      };
    }),
  );
  return { moved, batches };
}
