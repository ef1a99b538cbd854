// accounting.test.ts: counters equal count(*) by status, over many tasks and over a job that
// pg-boss hands out a second time.
import { expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { countTasksByStatus, expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({ workerConcurrency: 25 }, (file) => ({ db, server } = file));

it("2,000 tasks run concurrently end with counters equal to count(*) by status", async () => {
  const tasks = Array.from({ length: 2_000 }, (_, i) =>
    i % 10 === 0 ? { kind: "sleep", input: { ms: 5 } } : i % 97 === 0 ? { kind: "fail", input: { times: 9 } } : { kind: "echo", input: { i } },
  );
  const batch = await submitOk(server.url, { tasks });
  // While it runs, every snapshot read must add up.
  const seen = new Set<string>();
  const done = await waitFor(async () => {
    const now = (await getBatch(server.url, batch.id))!;
    const { total, ...parts } = now.counts;
    expect(Object.values(parts).reduce((a, b) => a + b, 0)).toBe(total);
    seen.add(now.status);
    return now.status === "COMPLETED" ? now : undefined;
  }, 120_000);
  const failing = tasks.filter((t) => t.kind === "fail").length;
  expect(done.counts).toEqual({ total: 2_000, queued: 0, running: 0, retrying: 0, succeeded: 2_000 - failing, failed: failing, canceled: 0, expired: 0 });
  await expectCountersMatchRows(db.pool, done);
  expect(seen.has("RUNNING") || seen.has("QUEUED")).toBe(true);
});

it("a job delivered again after its task succeeded changes nothing (exactly-once accounting)", async () => {
  const batch = await submitOk(server.url, { tasks: Array.from({ length: 20 }, (_, i) => ({ kind: "echo", input: i })) });
  const done = await waitForFinal(server.url, batch.id);
  const before = await db.pool.query(`select id, status, attempts, finished_at from task where batch_id = $1 order by index`, [batch.id]);

  // What an expired claim or a crash looks like to the worker: pg-boss hands the jobs out again.
  const { rowCount } = await db.pool.query(
    `update pgboss.job set state = 'created', completed_on = null, start_after = now()
     where id in (select id from task where batch_id = $1)`,
    [batch.id],
  );
  expect(rowCount).toBe(20);
  await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select count(*)::int as n from pgboss.job where id in (select id from task where batch_id = $1) and state = 'completed'`,
      [batch.id],
    );
    return rows[0].n === 20 ? true : undefined;
  });

  const after = (await getBatch(server.url, batch.id))!;
  expect(after.counts).toEqual(done.counts);
  expect(after.version).toBe(done.version);
  const rows = await db.pool.query(`select id, status, attempts, finished_at from task where batch_id = $1 order by index`, [batch.id]);
  expect(rows.rows).toEqual(before.rows);
  expect(await countTasksByStatus(db.pool, batch.id)).toEqual({ SUCCEEDED: 20 });
  await expectCountersMatchRows(db.pool, after);
});
