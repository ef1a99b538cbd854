// crashRecovery.test.ts: a worker killed with SIGKILL mid-batch loses nothing: pg-boss heartbeats
// give its in-flight tasks to the next worker, and every task succeeds exactly once in the counts.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { startProcess } from "./helpers/process.ts";
import { expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let api: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startServer(db.url, { role: "api" });
});

afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

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
