// endurance.ts: batch after batch of N no-op tasks on one server and one database; the last
// batch's throughput against the first's (and the process's memory after each).
import { startBatchwire } from "../batchwire.ts";
import { settledMemory, type MemorySample } from "../memory.ts";
import { perSecond, type Scenario } from "../scenario.ts";
import { runBatch } from "./batchRun.ts";

export const endurance: Scenario = {
  name: "endurance",
  async run({ db, tasks, quick, progress }) {
    const batches = quick ? 3 : 10;
    const server = await startBatchwire(await db.freshDatabase("endurance"));
    const runs: { tasksPerSecond: number; drainMs: number; submitMs: number; memory: MemorySample }[] = [];
    try {
      for (let b = 1; b <= batches; b++) {
        const run = await runBatch(server.url, "echo", tasks);
        runs.push({ tasksPerSecond: perSecond(tasks, run.drainMs), drainMs: run.drainMs, submitMs: run.submitMs, memory: await settledMemory() });
        progress(`endurance ${b}/${batches}: ${runs.at(-1)!.tasksPerSecond.toFixed(0)} tasks/s`);
      }
    } finally {
      await server.stop();
    }
    const first = runs[0]!.tasksPerSecond;
    const last = runs.at(-1)!.tasksPerSecond;
    const ratio = last / first;
    // Batch 1 also pays for a cold process; the fastest batch shows the decline without that.
    const best = Math.max(...runs.map((r) => r.tasksPerSecond));
    return {
      rows: [
        {
          id: "endurance.lastBatchTasksPerSecond",
          figure: `endurance: batch ${batches} of ${batches} (vs batch 1)`,
          unit: "tasks/s",
          value: last,
          baseline: first,
          ratio,
          target: "≥ 0.8x",
          met: ratio >= 0.8,
        },
        {
          id: "endurance.lastVsFastestBatch",
          figure: `endurance: batch ${batches} of ${batches} (vs the fastest batch)`,
          unit: "tasks/s",
          value: last,
          baseline: best,
          ratio: last / best,
          target: "",
        },
      ],
      details: { batches: runs },
    };
  },
};
