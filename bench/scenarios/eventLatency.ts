// eventLatency.ts: a task's outcome commit → the first jobProgress message over graphql-ws that
// reflects it, while N no-op tasks run at full speed with one subscriber watching.
//
// With track_commit_timestamp on, pg_xact_commit_timestamp(xmin) of a task row is the commit of
// its outcome; the message that reflects it is the first whose batch.version reaches the task's
// batch_version. Without commit timestamps the handler's end (earlier than the commit) is used,
// which overstates the latency by the flush.
import { subscribe, wsClient, type ReceivedEvent } from "../clients.ts";
import { startBatchwire } from "../batchwire.ts";
import { query } from "../database.ts";
import { stampKind } from "../kinds.ts";
import { summarize } from "../percentiles.ts";
import { withTimeout } from "../raw.ts";
import { epochMs, perSecond, type Scenario } from "../scenario.ts";
import type { Row } from "../report.ts";
import { batchTimeoutMs, runBatchAsync } from "./batchRun.ts";

/** Index of the first event whose batch version is at least `version` (events ascend by version). */
function firstReflecting(events: ReceivedEvent[], version: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.event.batch.version >= version) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const eventLatency: Scenario = {
  name: "eventLatency",
  async run({ db, tasks, progress }) {
    const stamp = stampKind();
    const url = await db.freshDatabase("events");
    const server = await startBatchwire(url, [stamp.kind]);
    const client = wsClient(server.wsUrl);
    try {
      const running = await runBatchAsync(server.url, stamp.kind.name, tasks);
      const subscription = subscribe(client, running.batchId);
      await withTimeout(subscription.completed, batchTimeoutMs(tasks), "the subscription to complete");
      const finished = await running.finished;
      const events = subscription.events;
      const firstAt = events[0]!.at;

      const rows = await query<{ id: string; batch_version: number; committed: number | null }>(
        url,
        `select id, batch_version,
                ${db.commitTimestamps ? "extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000" : "null::float8"} as committed
         from task where batch_id = '${running.batchId}'`,
      );
      const latencies: number[] = [];
      let missed = 0;
      for (const task of rows) {
        const committed = task.committed ?? stamp.ended.get(task.id);
        if (committed === undefined || committed < firstAt) continue; // already in the first snapshot
        const index = firstReflecting(events, Number(task.batch_version));
        if (index >= events.length) missed++;
        else latencies.push(events[index]!.at - committed);
      }
      // The tasks an event names in changedTasks, timed from their own commit.
      const committedById = new Map(rows.map((r) => [r.id, r.committed ?? stamp.ended.get(r.id)]));
      const named: number[] = [];
      for (const { at, event } of events) {
        for (const task of event.changedTasks ?? []) {
          const committed = committedById.get(task.id);
          if (task.status === "SUCCEEDED" && committed !== undefined && committed >= firstAt) named.push(at - committed);
        }
      }
      const summary = summarize(latencies);
      const drainRate = perSecond(tasks, epochMs(finished.finishedAt) - epochMs(finished.startedAt));
      progress(`event latency: p50 ${summary.p50.toFixed(0)} ms p99 ${summary.p99.toFixed(0)} ms over ${summary.samples} tasks, ${events.length} events, ${drainRate.toFixed(0)} tasks/s`);
      const source = db.commitTimestamps ? "commit" : "handler end";
      const row = (p: "p50" | "p95" | "p99", target: string, met?: boolean): Row => ({
        id: `eventLatency.${p}Ms`,
        figure: `event latency ${p} (${source} → ws message, under load)`,
        unit: "ms",
        value: summary[p],
        target,
        met,
      });
      return {
        rows: [row("p50", ""), row("p95", ""), row("p99", "≤ 250 ms", summary.p99 <= 250)],
        details: {
          measuredFrom: source,
          reflecting: summary,
          namedInChangedTasks: summarize(named),
          missed,
          events: events.length,
          drainTasksPerSecond: drainRate,
          subscribedAfterMs: firstAt - running.submittedAt,
        },
      };
    } finally {
      await client.dispose();
      await server.stop();
    }
  },
};
