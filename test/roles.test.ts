// roles.test.ts: api and worker as separate processes on one database; graceful stop on SIGTERM.
import { describe, expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { startProcess } from "./helpers/process.ts";
import { countTasksByStatus, expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let api: TestServer;

serverForFile({ role: "api" }, (file) => ({ db, server: api } = file));

describe("ROLE=api and ROLE=worker", () => {
  it("an api process and a separate worker process run a batch to completion together", async () => {
    const batch = await submitOk(api.url, {
      tasks: Array.from({ length: 50 }, (_, i) => (i % 2 ? { kind: "echo", input: i } : { kind: "sha256", input: { text: `t${i}`, rounds: 10 } })),
    });
    // Nothing runs without a worker.
    expect((await getBatch(api.url, batch.id))!.status).toBe("QUEUED");
    const worker = await startProcess({ ROLE: "worker", DATABASE_URL: db.url });
    try {
      // A worker serves /healthz alone, and says so: no GraphQL URL it does not serve.
      expect(worker.output()).toContain(`"msg":"batchwire worker ready; health at http://localhost:${worker.port}/healthz"`);
      expect(worker.output()).not.toContain("/graphql");
      expect((await fetch(`http://127.0.0.1:${worker.port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${worker.port}/`, { redirect: "manual" })).status).toBe(404);
      const done = await waitForFinal(api.url, batch.id);
      expect(done.counts.succeeded).toBe(50);
      await expectCountersMatchRows(db.pool, done);
    } finally {
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    }
  });
});

describe("SIGTERM", () => {
  it("lets tasks in flight finish, exits 0, and leaves the rest queued for the next worker", async () => {
    const batch = await submitOk(api.url, { tasks: Array.from({ length: 30 }, () => ({ kind: "sleep", input: { ms: 1_500 } })) });
    const worker = await startProcess({ ROLE: "worker", DATABASE_URL: db.url, WORKER_CONCURRENCY: "5", SHUTDOWN_TIMEOUT_MS: "20000" });
    await waitFor(async () => ((await getBatch(api.url, batch.id))!.counts.running > 0 ? true : undefined));
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);

    const afterStop = await countTasksByStatus(db.pool, batch.id);
    expect(afterStop.RUNNING ?? 0).toBe(0);
    expect(afterStop.SUCCEEDED).toBeGreaterThanOrEqual(1);
    expect(afterStop.QUEUED).toBeGreaterThanOrEqual(1);

    const next = await startProcess({ ROLE: "worker", DATABASE_URL: db.url, WORKER_CONCURRENCY: "30" });
    try {
      const done = await waitForFinal(api.url, batch.id);
      expect(done.counts.succeeded).toBe(30);
      const { rows } = await db.pool.query(`select max(attempts) as most from task where batch_id = $1`, [batch.id]);
      expect(rows[0].most).toBe(1);
      await expectCountersMatchRows(db.pool, done);
    } finally {
      next.kill("SIGTERM");
      await next.exited;
    }
  });

  it("a task still running when the shutdown grace ends runs again on the next worker", async () => {
    const batch = await submitOk(api.url, { tasks: [{ kind: "sleep", input: { ms: 4_000 } }] });
    const worker = await startProcess({ ROLE: "worker", DATABASE_URL: db.url, SHUTDOWN_TIMEOUT_MS: "300" });
    await waitFor(async () => ((await getBatch(api.url, batch.id))!.counts.running === 1 ? true : undefined));
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect((await getBatch(api.url, batch.id))!.status).not.toBe("COMPLETED");

    const next = await startProcess({ ROLE: "worker", DATABASE_URL: db.url });
    try {
      const done = await waitForFinal(api.url, batch.id);
      expect(done.counts.succeeded).toBe(1);
      const { rows } = await db.pool.query(`select attempts from task where batch_id = $1`, [batch.id]);
      expect(rows[0].attempts).toBe(2);
    } finally {
      next.kill("SIGTERM");
      await next.exited;
    }
  });
});
