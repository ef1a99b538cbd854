// expiry.test.ts: tasks not started within the completion window end EXPIRED; a finished batch
// is deleted, with its tasks, once its retention has passed; pg-boss forgets a finished job
// within a minute while its task keeps the outcome.
import { PgBoss } from "pg-boss";
import { expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({ workerConcurrency: 1, maintenanceIntervalSeconds: 1 }, (file) => ({ db, server } = file));

it("expires the tasks that did not start within completionWindowSeconds; the batch ends EXPIRED", async () => {
  const batch = await submitOk(server.url, {
    tasks: Array.from({ length: 5 }, () => ({ kind: "sleep", input: { ms: 2_500 } })),
    completionWindowSeconds: 1,
  });
  expect(Date.parse(batch.expiresAt!) - Date.parse(batch.createdAt)).toBeGreaterThanOrEqual(900);
  const done = await waitForFinal(server.url, batch.id);
  expect(done.status).toBe("EXPIRED");
  // One worker slot: the first task started in time and finished; the rest never started.
  expect(done.counts).toMatchObject({ total: 5, succeeded: 1, expired: 4, queued: 0, running: 0 });
  await expectCountersMatchRows(db.pool, done);
  const { rows } = await db.pool.query(
    `select t.status, t.error->>'code' as code, j.state from task t left join pgboss.job j on j.id = t.id
     where t.batch_id = $1 and t.status = 'EXPIRED'`,
    [batch.id],
  );
  expect(rows).toHaveLength(4);
  expect(rows.every((r) => r.code === "EXPIRED" && r.state === "cancelled")).toBe(true);
});

it("deletes a finished batch and its tasks retentionSeconds after it finished", async () => {
  const batch = await submitOk(server.url, { tasks: [{ kind: "echo", input: 1 }], retentionSeconds: 1 });
  const done = await waitForFinal(server.url, batch.id);
  expect(Date.parse(done.purgeAt!) - Date.parse(done.finishedAt!)).toBe(1_000);
  await waitFor(async () => ((await getBatch(server.url, batch.id)) === null ? true : undefined), 30_000, "the batch to be deleted");
  const { rows } = await db.pool.query(`select count(*)::int as n from task where batch_id = $1`, [batch.id]);
  expect(rows[0].n).toBe(0);
});

it("lets pg-boss delete a finished job a minute after it finished; the task keeps its result", async () => {
  const batch = await submitOk(server.url, { tasks: [{ kind: "echo", input: { keep: "me" } }] });
  await waitForFinal(server.url, batch.id);
  const jobs = async () =>
    (await db.pool.query(`select j.state from task t join pgboss.job j on j.id = t.id where t.batch_id = $1`, [batch.id])).rows;
  expect(await jobs()).toEqual([{ state: "completed" }]);
  // Move the job's finish back instead of waiting, then run pg-boss's retention sweep.
  await db.pool.query(`update pgboss.job set completed_on = completed_on - interval '61 seconds' where id in (select id from task where batch_id = $1)`, [
    batch.id,
  ]);
  const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
  boss.on("error", () => undefined);
  await boss.start();
  try {
    await boss.supervise("task.echo");
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
  expect(await jobs()).toEqual([]);
  const { rows } = await db.pool.query(`select status, result from task where batch_id = $1`, [batch.id]);
  expect(rows).toEqual([{ status: "SUCCEEDED", result: { keep: "me" } }]);
});
