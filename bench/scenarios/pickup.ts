// pickup.ts: on an idle queue, a submit of one task → its handler starting, against raw pg-boss's
// send() of one job → its handler starting. A random gap between samples keeps the queue idle
// and the samples out of step with the workers' polling.
import { nowMs, submit } from "../clients.ts";
import { startBatchwire } from "../batchwire.ts";
import { pickupProbe } from "../kinds.ts";
import { summarize } from "../percentiles.ts";
import { rawPickup, startRawBoss } from "../raw.ts";
import { sleep, type Scenario } from "../scenario.ts";
import type { Row } from "../report.ts";

const WARMUP = 3;

export const pickup: Scenario = {
  name: "pickup",
  async run({ db, quick, progress }) {
    const samples = quick ? 30 : 50;
    const gapMs = quick ? () => 20 + Math.random() * 40 : () => 40 + Math.random() * 60;

    const probe = pickupProbe();
    const server = await startBatchwire(await db.freshDatabase("pickup"), [probe.kind]);
    const batchwire: number[] = [];
    try {
      await sleep(500); // let the work loops reach their idle wait
      for (let n = 0; n < samples + WARMUP; n++) {
        await sleep(gapMs());
        const started = probe.waitFor(n, 10_000);
        const t0 = nowMs();
        const submitted = submit(server.url, [{ kind: "bench.pickup", input: { n } }]);
        const at = await started;
        await submitted;
        if (n >= WARMUP) batchwire.push(at - t0);
      }
    } finally {
      await server.stop();
    }

    const boss = await startRawBoss(await db.freshDatabase("pickup_raw"));
    let raw: number[];
    try {
      await sleep(500);
      raw = (await rawPickup(boss, samples + WARMUP, gapMs)).slice(WARMUP);
    } finally {
      await boss.stop();
    }
    const ours = summarize(batchwire);
    const theirs = summarize(raw);
    progress(`pickup: batchwire p50 ${ours.p50.toFixed(1)} ms, raw p50 ${theirs.p50.toFixed(1)} ms`);
    const row = (p: "p50" | "p95" | "p99", target: string, met?: boolean): Row => ({
      id: `pickup.${p}Ms`,
      figure: `pickup latency ${p} (idle queue, ${samples} samples; vs boss.send)`,
      unit: "ms",
      value: ours[p],
      baseline: theirs[p],
      ratio: ours[p] / theirs[p],
      target,
      met,
    });
    return {
      rows: [row("p50", "≤ 20 ms", ours.p50 <= 20), row("p95", ""), row("p99", "")],
      details: { batchwire: ours, raw: theirs, batchwireSamplesMs: batchwire, rawSamplesMs: raw },
    };
  },
};
