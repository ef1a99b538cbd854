// cancel.ts: cancelBatch. Tasks not started end CANCELED at once (their jobs cancelled in
// pg-boss); running tasks are aborted by their workers, which hear the batch change.
import type { PgBoss } from "pg-boss";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import { notFound } from "../errors.ts";
import { withRetries } from "../worker/flush.ts";
import { queueName } from "../worker/queues.ts";
import { FINAL_BATCH_STATUSES, type BatchRow, type TaskStatus } from "./rows.ts";
import { getBatch } from "./sql/getBatch.ts";
import { taskIdsByStatus } from "./sql/lockTasks.ts";
import { applyTransitions, CANCELED_ERROR, type MovedTask } from "./transitions.ts";

const NOT_STARTED: readonly TaskStatus[] = ["QUEUED", "RETRYING"];

/** Cancels the pg-boss jobs of tasks that will not run now, grouped by queue. */
export async function cancelJobs(boss: PgBoss, client: Parameters<typeof bossDb>[0], moved: MovedTask[]): Promise<void> {
  const byQueue = Map.groupBy(moved, ({ task }) => queueName(task.kind));
  for (const [queue, tasks] of byQueue) {
    await boss.cancel(queue, tasks.map(({ task }) => task.job_id ?? task.id), { db: bossDb(client) });
  }
}

export async function cancelBatch(deps: { pool: Pool; boss: PgBoss }, owner: string, id: string): Promise<BatchRow> {
  const batch = await getBatch(deps.pool, owner, id);
  if (!batch) throw notFound("batch", id);
  if (FINAL_BATCH_STATUSES.includes(batch.status)) return batch;

  await withRetries(() =>
    withTransaction(deps.pool, async (client) => {
      const ids = await taskIdsByStatus(client, batch.id, NOT_STARTED);
      const { moved } = await applyTransitions(
        client,
        ids.map((taskId) => ({ taskId, to: "CANCELED", from: NOT_STARTED, error: CANCELED_ERROR })),
        { batches: [{ batchId: batch.id, status: "CANCELING" }] },
      );
      await cancelJobs(deps.boss, client, moved);
    }),
  );
  return (await getBatch(deps.pool, owner, id))!;
}
