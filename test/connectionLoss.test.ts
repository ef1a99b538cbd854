// connectionLoss.test.ts: every database connection of the server killed mid-batch (what a
// PostgreSQL restart does to it): the process reconnects and subscribers still get the final event.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../src/db/embedded.ts";
import { createLogger } from "../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";
import { expectMonotonic, watch, wsClient } from "./helpers/subscriptions.ts";

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url, { workerConcurrency: 4 });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it("survives every connection being terminated mid-batch, with exact counts and the final event", async () => {
  const batch = await submitOk(server.url, { tasks: Array.from({ length: 40 }, () => ({ kind: "sleep", input: { ms: 200 } })) });
  const client = wsClient(server.wsUrl);
  try {
    const watcher = watch(client, batch.id);
    await waitFor(async () => ((await getBatch(server.url, batch.id))!.counts.succeeded >= 8 ? true : undefined));
    const { rows } = await db.pool.query(
      `select pg_terminate_backend(pid) as killed from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and application_name like 'batchwire%'`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    await watcher.completed;
    expect(watcher.events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 40 } });
    expectMonotonic(watcher.events);
    const done = await waitForFinal(server.url, batch.id);
    await expectCountersMatchRows(db.pool, done);
  } finally {
    await client.dispose();
  }
});

it("recovers from a PostgreSQL restart mid-batch: subscribers get the final event without reconnecting", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "batchwire-restart-"));
  await chmod(dataDir, 0o755);
  const log = createLogger("silent");
  let postgres = await startEmbeddedPostgres(dataDir, log);
  const own = await startServer(postgres.url, { workerConcurrency: 4 });
  const client = wsClient(own.wsUrl, { retryAttempts: 0 });
  try {
    const batch = await submitOk(own.url, { tasks: Array.from({ length: 30 }, () => ({ kind: "sleep", input: { ms: 200 } })) });
    const watcher = watch(client, batch.id);
    await waitFor(async () => ((await getBatch(own.url, batch.id))!.counts.succeeded >= 4 ? true : undefined));
    await postgres.stop();
    postgres = await startEmbeddedPostgres(dataDir, log, postgres.port);
    await watcher.completed;
    expect(watcher.events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 30 } });
    expectMonotonic(watcher.events);
  } finally {
    await client.dispose();
    await own.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
