// throughput.ts: N no-op echo tasks from submit to COMPLETED, against a raw pg-boss work() drain
// of N jobs with echo's batch size and concurrency. The drain rate of both is measured the
// same way: first pickup to last completion, on the database's clock.
import { perSecond, type Scenario } from "../scenario.ts";
import { batchTimeoutMs, runBatch, type BatchRun } from "./batchRun.ts";
import { startBatchwire } from "../batchwire.ts";
import { median } from "../percentiles.ts";
import { rawDrain, startRawBoss, type CpuSampler, type DrainTimes } from "../raw.ts";
import type { Row } from "../report.ts";

export const throughput: Scenario = {
  name: "throughput",
  async run({ db, tasks, repeat, progress }) {
    const timeoutMs = batchTimeoutMs(tasks);
    const raw: DrainTimes[] = [];
    const runs: BatchRun[] = [];
    const sample: CpuSampler = async () => {
      const { user, system } = process.cpuUsage();
      return { nodeMs: (user + system) / 1000, postgresMs: await db.cpuMs() };
    };
    for (let rep = 1; rep <= repeat; rep++) {
      const boss = await startRawBoss(await db.freshDatabase("throughput_raw"));
      try {
        raw.push(await rawDrain(boss, tasks, timeoutMs, sample));
      } finally {
        await boss.stop();
      }
      const server = await startBatchwire(await db.freshDatabase("throughput"));
      try {
        const { batch: _batch, ...run } = await runBatch(server.url, "echo", tasks, sample);
        runs.push(run);
      } finally {
        await server.stop();
      }
      progress(
        `throughput ${rep}/${repeat}: batchwire ${perSecond(tasks, runs.at(-1)!.drainMs).toFixed(0)} tasks/s, raw ${perSecond(tasks, raw.at(-1)!.drainMs).toFixed(0)} jobs/s`,
      );
    }
    const value = perSecond(tasks, median(runs.map((r) => r.drainMs)));
    const baseline = perSecond(tasks, median(raw.map((r) => r.drainMs)));
    const ratio = value / baseline;
    const endToEnd = perSecond(tasks, median(runs.map((r) => r.endToEndMs)));
    // Where the time goes: CPU per 1,000 tasks in this (the server's) process and in PostgreSQL.
    const per1000 = (ms: number | undefined) => (ms === undefined ? Number.NaN : (ms * 1000) / tasks);
    const cpuRow = (id: string, figure: string, pick: (cpu: NonNullable<BatchRun["cpu"]>) => number | undefined): Row => {
      const value = median(runs.map((r) => per1000(r.cpu ? pick(r.cpu) : undefined)));
      const baseline = median(raw.map((r) => per1000(r.cpu ? pick(r.cpu) : undefined)));
      return { id, figure, unit: "ms", value, baseline, ratio: value / baseline, target: "" };
    };
    const cpuRows = [
      cpuRow("throughput.nodeCpuMsPer1000", "throughput: Node CPU per 1,000 tasks (vs raw drain)", (cpu) => cpu.nodeMs),
      ...(raw[0]?.cpu?.postgresMs === undefined ? [] : [cpuRow("throughput.postgresCpuMsPer1000", "throughput: PostgreSQL CPU per 1,000 tasks (vs raw drain)", (cpu) => cpu.postgresMs)]),
    ];
    return {
      rows: [
        {
          id: "throughput.tasksPerSecond",
          figure: `throughput: ${tasks.toLocaleString("en-US")} no-op tasks (vs work() drain)`,
          unit: "tasks/s",
          value,
          baseline,
          ratio,
          target: "≥ 0.6x and ≥ 10,000/s",
          met: ratio >= 0.6 && value >= 10_000,
        },
        {
          id: "throughput.endToEndTasksPerSecond",
          figure: "throughput: submit request → COMPLETED",
          unit: "tasks/s",
          value: endToEnd,
          target: "",
        },
        ...cpuRows,
      ],
      details: { batchwire: runs, raw },
    };
  },
};
