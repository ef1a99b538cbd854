// ingest.ts: one submitBatch of N echo tasks over HTTP, request to response, against one raw
// boss.insert of N jobs. The API runs alone (role "api"), as the raw insert has no workers.
import { gqlBody, nowMs, submitBody } from "../clients.ts";
import { startBatchwire } from "../batchwire.ts";
import { median } from "../percentiles.ts";
import { rawInsert, startRawBoss } from "../raw.ts";
import { perSecond, type Scenario } from "../scenario.ts";

export const ingest: Scenario = {
  name: "ingest",
  async run({ db, tasks, repeat, progress }) {
    const body = submitBody(Array.from({ length: tasks }, (_, i) => ({ kind: "echo", input: { i } })));
    const rawMs: number[] = [];
    const batchwireMs: number[] = [];
    for (let rep = 1; rep <= repeat; rep++) {
      const raw = await startRawBoss(await db.freshDatabase("ingest_raw"));
      try {
        rawMs.push((await rawInsert(raw, tasks)).ms);
      } finally {
        await raw.stop();
      }
      const server = await startBatchwire(await db.freshDatabase("ingest"), [], { role: "api" });
      try {
        const t0 = nowMs();
        await gqlBody(server.url, body);
        batchwireMs.push(nowMs() - t0);
      } finally {
        await server.stop();
      }
      progress(`ingest ${rep}/${repeat}: batchwire ${batchwireMs.at(-1)!.toFixed(0)} ms, raw insert ${rawMs.at(-1)!.toFixed(0)} ms`);
    }
    const value = perSecond(tasks, median(batchwireMs));
    const baseline = perSecond(tasks, median(rawMs));
    const ratio = value / baseline;
    return {
      rows: [
        {
          id: "ingest.tasksPerSecond",
          figure: `ingest: submitBatch of ${tasks.toLocaleString("en-US")} (vs boss.insert)`,
          unit: "tasks/s",
          value,
          baseline,
          ratio,
          target: "≥ 0.5x",
          met: ratio >= 0.5,
        },
      ],
      details: { batchwireMs, rawMs, bodyBytes: Buffer.byteLength(body) },
    };
  },
};
