// connectionLoss.test.ts: database faults on a PostgreSQL this file owns (so no other test is
// disturbed): every connection killed mid-batch, and a server restart mid-batch. The process
// survives, reconnects, finishes the batch with exact counts, and subscribers get the final event.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded.ts";
import { createLogger } from "../src/logger.ts";
import { startServer, waitFor } from "./helpers/server.ts";
import { expectCountersMatchRows, getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";
import { expectMonotonic, watch, wsClient } from "./helpers/subscriptions.ts";

const log = createLogger("silent");
let dataDir: string;
let postgres: EmbeddedDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "batchwire-faults-"));
  await chmod(dataDir, 0o755);
  postgres = await startEmbeddedPostgres(dataDir, log);
  pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
  pool.on("error", () => undefined);
});

afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it("survives every worker and API connection being terminated mid-batch", async () => {
  const server = await startServer(postgres.url, { workerConcurrency: 4 });
  const client = wsClient(server.wsUrl);
  try {
    const batch = await submitOk(server.url, { tasks: Array.from({ length: 40 }, () => ({ kind: "sleep", input: { ms: 200 } })) });
    const watcher = watch(client, batch.id);
    await waitFor(async () => ((await getBatch(server.url, batch.id))!.counts.succeeded >= 8 ? true : undefined));
    const { rows } = await pool.query(
      `select application_name, pg_terminate_backend(pid) as killed from pg_stat_activity
       where pid <> pg_backend_pid() and application_name like 'batchwire%'`,
    );
    // Our pool, pg-boss's pool and the LISTEN connection all went.
    expect(new Set(rows.map((r) => r.application_name))).toEqual(new Set(["batchwire", "batchwire-all", "batchwire-listen"]));
    await watcher.completed;
    expect(watcher.events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 40 } });
    expectMonotonic(watcher.events);
    await expectCountersMatchRows(pool, await waitForFinal(server.url, batch.id));
  } finally {
    await client.dispose();
    await server.stop();
  }
});

it("recovers from a PostgreSQL restart mid-batch: subscribers get the final event without reconnecting", async () => {
  const server = await startServer(postgres.url, { workerConcurrency: 4 });
  const client = wsClient(server.wsUrl);
  try {
    const batch = await submitOk(server.url, { tasks: Array.from({ length: 30 }, () => ({ kind: "sleep", input: { ms: 200 } })) });
    const watcher = watch(client, batch.id);
    await waitFor(async () => ((await getBatch(server.url, batch.id))!.counts.succeeded >= 4 ? true : undefined));
    await postgres.stop();
    postgres = await startEmbeddedPostgres(dataDir, log, postgres.port);
    await watcher.completed;
    expect(watcher.events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 30 } });
    expectMonotonic(watcher.events);
    await expectCountersMatchRows(pool, await waitForFinal(server.url, batch.id));
  } finally {
    await client.dispose();
    await server.stop();
  }
});
