// retryFailed.ts: retryFailedTasks. The batch's FAILED tasks go back to QUEUED (attempts keep
// counting) and their dead-lettered jobs are redriven by pg-boss into their queues.
import type { JobInsert, PgBoss } from "pg-boss";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import { clientError, ErrorCode, notFound } from "../errors.ts";
import { withRetries } from "../worker/flush.ts";
import { DEAD_LETTER_QUEUE, jobFor, jobPriority, queueName, type TaskJobData } from "../worker/queues.ts";
import type { KindRegistry } from "../worker/registry.ts";
import type { BatchRow } from "./rows.ts";
import { getBatch } from "./sql/getBatch.ts";
import { taskIdsByStatus } from "./sql/lockTasks.ts";
import { applyTransitions } from "./transitions.ts";

const PAGE = 1_000;

export async function retryFailedTasks(deps: { pool: Pool; boss: PgBoss; kinds: KindRegistry }, owner: string, id: string): Promise<BatchRow> {
  const batch = await getBatch(deps.pool, owner, id);
  if (!batch) throw notFound("batch", id);
  if (batch.status === "CANCELING" || batch.status === "CANCELED") {
    throw clientError(ErrorCode.BAD_USER_INPUT, `batch ${id} was canceled; its failed tasks cannot be retried`);
  }
  if (batch.failed === 0) return batch;

  await withRetries(() =>
    withTransaction(deps.pool, async (client) => {
      const db = bossDb(client);
      const ids = await taskIdsByStatus(client, batch.id, ["FAILED"]);
      const { moved } = await applyTransitions(
        client,
        ids.map((taskId) => ({ taskId, to: "QUEUED", from: ["FAILED"] })),
        { batches: [{ batchId: batch.id, status: "RUNNING" }] },
      );

      // Each terminally failed job left a copy in the dead-letter queue: redrive those.
      const deadByTask = new Map<string, string>();
      for (let after: string | undefined; ; ) {
        const page = await deps.boss.findJobs<TaskJobData>(DEAD_LETTER_QUEUE, { data: { batchId: batch.id }, queued: true, limit: PAGE, after, db });
        for (const job of page) deadByTask.set(job.data.taskId, job.id);
        if (page.length < PAGE) break;
        after = page.at(-1)!.id;
      }
      const toRedrive = moved.filter(({ task }) => deadByTask.has(task.id)).map(({ task }) => deadByTask.get(task.id)!);
      for (let i = 0; i < toRedrive.length; i += PAGE) {
        const ids = toRedrive.slice(i, i + PAGE);
        await deps.boss.redrive(DEAD_LETTER_QUEUE, { ids, limit: ids.length, db });
      }

      // A task whose copy is gone (past the dead-letter queue's retention) gets a fresh job.
      const missing = Map.groupBy(
        moved.filter(({ task }) => !deadByTask.has(task.id)),
        ({ task }) => task.kind,
      );
      for (const [kindName, tasks] of missing) {
        const kind = deps.kinds.get(kindName);
        if (!kind) throw new Error(`task kind "${kindName}" is no longer registered`);
        const jobs: JobInsert<TaskJobData>[] = tasks.map(({ task }) => ({
          ...jobFor(kind, { taskId: task.id, batchId: batch.id }, jobPriority(batch.priority, 0)),
          id: undefined,
        }));
        await deps.boss.insert(queueName(kindName), jobs, { db });
      }
    }),
  );
  return (await getBatch(deps.pool, owner, id))!;
}
