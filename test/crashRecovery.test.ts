// crashRecovery.test.ts: a worker killed with SIGKILL mid-batch loses nothing: pg-boss heartbeats
// give its in-flight tasks to the next worker, and every task succeeds exactly once in the counts;
// a last attempt cut short before anything was written ends FAILED, not stuck QUEUED.
import { expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { startProcess } from "./helpers/process.ts";
import { expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let api: TestServer;
const CRASHING_KINDS = "./test/fixtures/crashingKind.ts";

serverForFile({ role: "api", taskKindsModule: CRASHING_KINDS }, (file) => ({ db, server: api } = file));

it("2,000 sleep tasks survive their worker being SIGKILLed at about 30%", { timeout: 180_000 }, async () => {
  const workerEnv = { ROLE: "worker", DATABASE_URL: db.url, WORKER_CONCURRENCY: "50", HEARTBEAT_SECONDS: "10", SUPERVISE_INTERVAL_SECONDS: "1" };
  const batch = await submitOk(api.url, { tasks: Array.from({ length: 2_000 }, () => ({ kind: "sleep", input: { ms: 50 } })) });
  const doomed = await startProcess(workerEnv);
  const atKill = await waitFor(async () => {
    const now = (await getBatch(api.url, batch.id))!;
    return now.counts.succeeded >= 600 ? now : undefined;
  }, 60_000);
  doomed.kill("SIGKILL");
  expect(await doomed.exited).toBeNull(); // killed, no clean-up ran
  expect(atKill.counts.succeeded).toBeLessThan(2_000);

  const next = await startProcess(workerEnv);
  try {
    const done = await waitForFinal(api.url, batch.id, 120_000);
    expect(done.status).toBe("COMPLETED");
    expect(done.counts).toMatchObject({ total: 2_000, succeeded: 2_000, failed: 0, running: 0 });
    await expectCountersMatchRows(db.pool, done);
    const { rows } = await db.pool.query(`select attempts, count(*)::int as n from task where batch_id = $1 group by attempts order by attempts`, [batch.id]);
    expect(rows.every((r) => r.attempts === 1 || r.attempts === 2)).toBe(true);
    // The tasks in flight at the kill ran a second time.
    expect(rows.find((r) => r.attempts === 2)?.n ?? 0).toBeGreaterThan(0);
  } finally {
    next.kill("SIGTERM");
    await next.exited;
  }
});

it("settles a last attempt whose worker died before writing anything: FAILED, and the batch finishes", { timeout: 120_000 }, async () => {
  const workerEnv = { ROLE: "worker", DATABASE_URL: db.url, TASK_KINDS_MODULE: CRASHING_KINDS, HEARTBEAT_SECONDS: "10", SUPERVISE_INTERVAL_SECONDS: "1" };
  const doomed = await startProcess(workerEnv);
  const batch = await submitOk(api.url, { tasks: [{ kind: "crash", input: {} }] });
  expect(await doomed.exited).toBeNull(); // the handler SIGKILLed its own process at once
  const { rows: seen } = await db.pool.query(`select status, attempts from task where batch_id = $1`, [batch.id]);
  expect(seen).toEqual([{ status: "RUNNING", attempts: 1 }]);

  // Move time instead of waiting: the heartbeat was lost long ago, and so was the attempt.
  await db.pool.query(`update pgboss.job set heartbeat_on = now() - interval '1 hour' where name = 'task.crash'`);
  await db.pool.query(`update task set started_at = now() - interval '1 hour' where batch_id = $1`, [batch.id]);
  const sweeper = await startProcess({ ...workerEnv, MAINTENANCE_INTERVAL_SECONDS: "1" });
  try {
    const done = await waitForFinal(api.url, batch.id, 60_000);
    expect(done.status).toBe("COMPLETED");
    expect(done.counts).toMatchObject({ total: 1, failed: 1, queued: 0, running: 0 });
    await expectCountersMatchRows(db.pool, done);
    const { rows } = await db.pool.query(`select status, attempts, error->>'code' as code from task where batch_id = $1`, [batch.id]);
    expect(rows).toEqual([{ status: "FAILED", attempts: 1, code: "ATTEMPTS_EXHAUSTED" }]);
  } finally {
    sweeper.kill("SIGTERM");
    await sweeper.exited;
  }
});
