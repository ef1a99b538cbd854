// batchRun.ts: submits one batch of N tasks over HTTP and follows it (batch(id) every 100 ms)
// until it is final; times come from the batch's own startedAt / finishedAt.
import { gqlBody, nowMs, pollUntilFinal, submitBody, type BatchView } from "../clients.ts";
import { cpuDelta, type CpuSampler, type CpuUse } from "../raw.ts";
import { epochMs } from "../scenario.ts";

export interface RunningBatch {
  batchId: string;
  /** When the submit request was sent (nowMs()). */
  submittedAt: number;
  submitMs: number;
  /** The final batch; rejects unless every task succeeded. */
  finished: Promise<BatchView>;
}

export interface BatchRun {
  /** batch.startedAt → batch.finishedAt: first task started to the batch COMPLETED. */
  drainMs: number;
  /** Submit request sent → batch.finishedAt. */
  endToEndMs: number;
  submitMs: number;
  /** CPU used from the submit's response to the batch seen final, when sampled. */
  cpu?: CpuUse;
}

export function batchTimeoutMs(tasks: number): number {
  return Math.max(60_000, tasks * 2); // gives up below 500 tasks/s
}

export async function runBatchAsync(url: string, kind: string, tasks: number): Promise<RunningBatch> {
  const body = submitBody(Array.from({ length: tasks }, (_, i) => ({ kind, input: { i } })));
  const submittedAt = nowMs();
  const { submitBatch } = await gqlBody<{ submitBatch: { batch: BatchView } }>(url, body);
  const submitMs = nowMs() - submittedAt;
  const finished = pollUntilFinal(url, submitBatch.batch.id, batchTimeoutMs(tasks)).then((batch) => {
    if (batch.status !== "COMPLETED" || batch.counts.succeeded !== tasks) throw new Error(`batch ended ${batch.status} ${JSON.stringify(batch.counts)}`);
    return batch;
  });
  finished.catch(() => undefined);
  return { batchId: submitBatch.batch.id, submittedAt, submitMs, finished };
}

export async function runBatch(url: string, kind: string, tasks: number, sample?: CpuSampler): Promise<BatchRun & { batch: BatchView }> {
  const running = await runBatchAsync(url, kind, tasks);
  const cpuBefore = await sample?.();
  const batch = await running.finished;
  const cpu = cpuBefore && sample ? cpuDelta(cpuBefore, await sample()) : undefined;
  return {
    cpu,
    batch,
    drainMs: epochMs(batch.finishedAt) - epochMs(batch.startedAt),
    endToEndMs: epochMs(batch.finishedAt) - running.submittedAt,
    submitMs: running.submitMs,
  };
}
