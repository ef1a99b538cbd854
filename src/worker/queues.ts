// queues.ts: one pg-boss queue per task kind, created (or updated) from the kind's policy.
import type { PgBoss, JobInsert } from "pg-boss";
import type { AnyTaskKind } from "./kind.ts";

export const DEAD_LETTER_QUEUE = "batchwire.dead-letter";

export function queueName(kind: string): string {
  return `task.${kind}`;
}

/** The job each task gets: its id is the task's id; its data points at the task, it does not copy it. */
export interface TaskJobData {
  taskId: string;
  batchId: string;
}

/** Seconds pg-boss lets an attempt stay active: the kind's timeout plus room for the flush. */
function expireInSeconds(kind: AnyTaskKind): number {
  return kind.policy.timeoutSeconds + 60;
}

export function jobFor(kind: AnyTaskKind, data: TaskJobData, priority: number): JobInsert<TaskJobData> {
  const { retryLimit, retryDelaySeconds, retryBackoff, retryDelayMaxSeconds } = kind.policy;
  return {
    id: data.taskId,
    data,
    priority,
    retryLimit,
    retryDelay: retryDelaySeconds,
    retryBackoff,
    ...(retryBackoff && retryDelayMaxSeconds !== null ? { retryDelayMax: retryDelayMaxSeconds } : {}),
    expireInSeconds: expireInSeconds(kind),
  };
}

export async function ensureQueues(boss: PgBoss, kinds: AnyTaskKind[], heartbeatSeconds: number): Promise<void> {
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  if (!existing.has(DEAD_LETTER_QUEUE)) await boss.createQueue(DEAD_LETTER_QUEUE, { notify: true });
  for (const kind of kinds) {
    const name = queueName(kind.name);
    const options = {
      deadLetter: DEAD_LETTER_QUEUE,
      heartbeatSeconds,
      notify: true,
      expireInSeconds: expireInSeconds(kind),
      retryLimit: kind.policy.retryLimit,
      retryDelay: kind.policy.retryDelaySeconds,
      retryBackoff: kind.policy.retryBackoff,
    };
    if (existing.has(name)) await boss.updateQueue(name, options);
    else await boss.createQueue(name, options).catch(async (error: unknown) => {
      // Another process created it between our read and our create.
      if (!(await boss.getQueue(name))) throw error;
    });
  }
}
