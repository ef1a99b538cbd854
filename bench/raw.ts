// raw.ts: the baseline: pg-boss 12 used directly, with the queue options, job options and work
// options batchwire uses for its `echo` kind, minus everything batchwire adds (task rows,
// counters, events). Same database server, same process, same run.
import { randomUUID } from "node:crypto";
import { PgBoss, type JobInsert } from "pg-boss";
import { echo } from "../src/worker/kinds/builtins.ts";
import { ensureQueues, jobFor, queueName, type TaskJobData } from "../src/worker/queues.ts";
import { nowMs } from "./clients.ts";
import { ANALYZE_AFTER_JOBS, ANALYZE_JOBS } from "../src/db/statistics.ts";
import { query, scalar } from "./database.ts";

export const RAW_QUEUE = queueName(echo.name);

export interface RawBoss {
  boss: PgBoss;
  url: string;
  stop(): Promise<void>;
}

/** A PgBoss configured as app.ts configures batchwire's, with echo's queue created the same way. */
export async function startRawBoss(url: string): Promise<RawBoss> {
  const boss = new PgBoss({ connectionString: url, useListenNotify: true, superviseIntervalSeconds: 60, schedule: false, max: 10 });
  boss.on("error", () => undefined);
  await boss.start();
  await ensureQueues(boss, [echo], 30, 7 * 24 * 3600);
  return { boss, url, stop: () => boss.stop({ graceful: true, timeout: 10_000, close: true }) };
}

/** Jobs shaped as submitBatch shapes them (id = task id, data = { taskId, batchId }). */
export function rawJobs(count: number): JobInsert<TaskJobData>[] {
  const batchId = randomUUID();
  return Array.from({ length: count }, () => jobFor(echo, { taskId: randomUUID(), batchId }, 0));
}

/** Times one boss.insert of `count` jobs (built before the clock starts). */
export async function rawInsert(raw: RawBoss, count: number): Promise<{ ms: number }> {
  const jobs = rawJobs(count);
  const t0 = nowMs();
  await raw.boss.insert(RAW_QUEUE, jobs);
  return { ms: nowMs() - t0 };
}

export interface DrainTimes {
  /** First fetch to last completion, from pg-boss's own started_on / completed_on. */
  drainMs: number;
  /** work() called to the last completion seen. */
  wallMs: number;
  /** What `sample` measured across the drain (after the insert), when given. */
  cpu?: CpuUse;
}

/** CPU used by this process and by the database server, in ms. */
export interface CpuUse {
  nodeMs: number;
  postgresMs: number | undefined;
}

export type CpuSampler = () => Promise<CpuUse>;

export function cpuDelta(before: CpuUse, after: CpuUse): CpuUse {
  return {
    nodeMs: after.nodeMs - before.nodeMs,
    postgresMs: after.postgresMs === undefined || before.postgresMs === undefined ? undefined : after.postgresMs - before.postgresMs,
  };
}

/**
 * Inserts `count` jobs, then drains them with work() as batchwire's runner would, handlers doing
 * nothing. After a large insert it analyzes the job table as batchwire does after a large submit
 * (src/db/statistics.ts), so both drain with the same query plans.
 */
export async function rawDrain(raw: RawBoss, count: number, timeoutMs: number, sample?: CpuSampler): Promise<DrainTimes> {
  await raw.boss.insert(RAW_QUEUE, rawJobs(count));
  if (count >= ANALYZE_AFTER_JOBS) await query(raw.url, ANALYZE_JOBS);
  const cpuBefore = await sample?.();
  const { batchSize } = echo.policy;
  let handled = 0;
  let allHandled!: () => void;
  const handledAll = new Promise<void>((resolve) => (allHandled = resolve));
  const t0 = nowMs();
  const workId = await raw.boss.work(
    RAW_QUEUE,
    {
      batchSize,
      localConcurrency: Math.max(1, Math.ceil(echo.policy.concurrency / batchSize)),
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 1,
      notifyPollingIntervalSeconds: 1,
    },
    async (jobs) => {
      handled += jobs.length;
      if (handled >= count) allHandled();
    },
  );
  await withTimeout(handledAll, timeoutMs, `raw drain of ${count} jobs`);
  // The last batch is completed right after its handler returns.
  const deadline = nowMs() + 10_000;
  while ((await scalar(raw.url, `select count(*) as n from pgboss.job where name = '${RAW_QUEUE}' and state = 'completed'`)) < count) {
    if (nowMs() > deadline) throw new Error("raw drain: jobs handled but not completed");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const wallMs = nowMs() - t0;
  const cpu = cpuBefore && sample ? cpuDelta(cpuBefore, await sample()) : undefined;
  await raw.boss.offWork(RAW_QUEUE, { id: workId, wait: true });
  const drainMs = await scalar(
    raw.url,
    `select extract(epoch from max(completed_on) - min(started_on)) * 1000 as n from pgboss.job where name = '${RAW_QUEUE}'`,
  );
  return { drainMs, wallMs, cpu };
}

/** send() of one job on an idle queue → its handler starting, `samples` times. */
export async function rawPickup(raw: RawBoss, samples: number, gapMs: () => number): Promise<number[]> {
  const waiting = new Map<number, (at: number) => void>();
  const workId = await raw.boss.work<{ n: number }>(
    RAW_QUEUE,
    { batchSize: echo.policy.batchSize, burstWhenBatchFull: true, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 },
    async (jobs) => {
      const at = nowMs();
      for (const job of jobs) waiting.get(job.data.n)?.(at);
    },
  );
  const latencies: number[] = [];
  for (let n = 0; n < samples; n++) {
    await new Promise((resolve) => setTimeout(resolve, gapMs()));
    const started = new Promise<number>((resolve) => waiting.set(n, resolve));
    const t0 = nowMs();
    await raw.boss.send(RAW_QUEUE, { n });
    latencies.push((await withTimeout(started, 10_000, `raw pickup sample ${n}`)) - t0);
    waiting.delete(n);
  }
  await raw.boss.offWork(RAW_QUEUE, { id: workId, wait: true });
  return latencies;
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
