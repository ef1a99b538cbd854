// scrape.ts: what a Prometheus scrape of GET /metrics costs with N tasks QUEUED, beside 4N finished
// ones kept for retention (a tenth of them FAILED, which the partial status index also holds): the
// backlog read behind batchwire_tasks and batchwire_oldest_queued_task_age_seconds, uncached (a
// scrape pays it once per cache period), against the naive count of the whole task table by kind
// and status; and the whole scrape over HTTP. The API runs alone, so the tasks stay QUEUED.
import pg from "pg";
import { gqlBody, nowMs, submitBody } from "../clients.ts";
import { startBatchwire } from "../batchwire.ts";
import { median, percentile } from "../percentiles.ts";
import type { Scenario } from "../scenario.ts";
import { readTaskBacklog } from "../../src/observability/taskBacklog.ts";

const BACKLOG_TIMEOUT_MS = 2_000;
const TARGET_MS = 100;

/** A COMPLETED batch of `total` finished tasks (a tenth FAILED), written straight to the tables. */
async function finishedBatch(pool: pg.Pool, total: number): Promise<void> {
  const failed = Math.floor(total / 10);
  const { rows } = await pool.query<{ id: string }>(
    `insert into batch (owner, status, total, queued, succeeded, failed, started_at, finished_at)
     values ('bench', 'COMPLETED', $1, 0, $1::int - $2::int, $2, now(), now()) returning id`,
    [total, failed],
  );
  await pool.query(
    `insert into task (id, batch_id, index, kind, input, status, attempts, result, started_at, finished_at)
     select gen_random_uuid(), $1, g, 'echo', jsonb_build_object('i', g), case when g < $3 then 'FAILED' else 'SUCCEEDED' end, 1,
            jsonb_build_object('i', g), now(), now()
       from generate_series(0, $2 - 1) g`,
    [rows[0]!.id, total, failed],
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = nowMs();
  const value = await fn();
  return { ms: nowMs() - t0, value };
}

export const scrape: Scenario = {
  name: "scrape",
  async run({ db, tasks, quick, progress }) {
    const samples = quick ? 10 : 20;
    const url = await db.freshDatabase("scrape");
    const server = await startBatchwire(url, [], { role: "api" });
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await gqlBody(server.url, submitBody(Array.from({ length: tasks }, (_, i) => ({ kind: "echo", input: { i } }))));
      await finishedBatch(pool, 4 * tasks);
      await pool.query("analyze batch, task");
      progress(`scrape: ${tasks.toLocaleString("en-US")} queued and ${(4 * tasks).toLocaleString("en-US")} finished tasks stored`);

      const metricsUrl = `${new URL(server.url).origin}/metrics`;
      // The server's first scrape reads the backlog; those within the cache period reuse that read.
      const first = await timed(async () => (await fetch(metricsUrl)).text());
      if (!first.value.includes(`batchwire_tasks{kind="echo",status="QUEUED"} ${tasks}`)) throw new Error("the scrape does not show the queued tasks");

      const backlogMs: number[] = [];
      const fullCountMs: number[] = [];
      const cachedMs: number[] = [];
      for (let i = 0; i < samples; i++) {
        const read = await timed(() => readTaskBacklog(pool, BACKLOG_TIMEOUT_MS));
        if (read.value.find((row) => row.kind === "echo" && row.status === "QUEUED")?.n !== tasks) throw new Error("the backlog read missed tasks");
        backlogMs.push(read.ms);
        fullCountMs.push((await timed(() => pool.query(`select kind, status, count(*) from task group by kind, status`))).ms);
        cachedMs.push((await timed(async () => (await fetch(metricsUrl)).text())).ms);
      }
      const { rows: plan } = await pool.query<{ "QUERY PLAN": string }>(
        `explain (analyze, buffers) select t.kind, t.status, count(*)::int as n,
                extract(epoch from now() - min(t.created_at) filter (where t.status = 'QUEUED'))::float8
           from batch b join task t on t.batch_id = b.id and t.status in ('QUEUED', 'RUNNING', 'RETRYING')
          where b.status in ('QUEUED', 'RUNNING', 'CANCELING') group by t.kind, t.status`,
      );
      const value = median(backlogMs);
      const baseline = median(fullCountMs);
      progress(`scrape: backlog read ${value.toFixed(1)} ms (full count ${baseline.toFixed(1)} ms), first scrape ${first.ms.toFixed(1)} ms, cached ${median(cachedMs).toFixed(1)} ms`);
      const n = tasks.toLocaleString("en-US");
      return {
        rows: [
          {
            id: "scrape.backlogReadMs",
            figure: `scrape: backlog read, ${n} queued + ${(4 * tasks).toLocaleString("en-US")} finished tasks (vs count(*) of the table)`,
            unit: "ms",
            value,
            baseline,
            ratio: value / baseline,
            target: `≤ ${TARGET_MS} ms, once per 5 s`,
            met: value <= TARGET_MS,
          },
          { id: "scrape.firstScrapeMs", figure: `scrape: GET /metrics with ${n} queued tasks (backlog read included)`, unit: "ms", value: first.ms, target: "" },
          { id: "scrape.cachedScrapeMs", figure: `scrape: GET /metrics within the cache period (median of ${samples})`, unit: "ms", value: median(cachedMs), target: "" },
        ],
        details: {
          backlogReadMs: backlogMs,
          backlogReadP95Ms: percentile(backlogMs, 95),
          fullCountMs,
          firstScrapeMs: first.ms,
          cachedScrapeMs: cachedMs,
          scrapeBytes: first.value.length,
          plan: plan.map((row) => row["QUERY PLAN"]),
        },
      };
    } finally {
      await pool.end();
      await server.stop();
    }
  },
};
