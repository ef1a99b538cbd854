// databaseOutage.test.ts: health that tells the truth. /readyz is 200 only when the process can do
// its work; while PostgreSQL is down, GraphQL answers 503 SERVICE_UNAVAILABLE with Retry-After, and
// a worker tells the outage once, not fifteen times a second. PostgreSQL here is this file's own,
// stopped and started again (no other test is disturbed).
import { Writable } from "node:stream";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded.ts";
import { DatabaseOutage } from "../src/db/outage.ts";
import { createLogger } from "../src/logger.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { startProcess } from "./helpers/process.ts";

const log = createLogger("silent");
let dataDir: string;
let postgres: EmbeddedDatabase;
let admin: pg.Pool;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "batchwire-outage-"));
  await chmod(dataDir, 0o755);
  postgres = await startEmbeddedPostgres(dataDir, log);
  admin = new pg.Pool({ connectionString: postgres.url, max: 2 });
  admin.on("error", () => undefined);
});

afterAll(async () => {
  await admin?.end();
  await postgres?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

let postgresDown = false;

async function stopPostgres(): Promise<void> {
  postgresDown = true;
  await postgres.stop();
}

/** Starts PostgreSQL again on its port, if it is down (a failed test leaves it up for the next). */
async function restartPostgres(): Promise<void> {
  if (!postgresDown) return;
  postgres = await startEmbeddedPostgres(dataDir, log, postgres.port);
  postgresDown = false;
}

async function readyz(server: TestServer): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`http://127.0.0.1:${server.app.port}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

function post(server: TestServer, query: string, variables: Record<string, unknown> = {}): Promise<Response> {
  return fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
    body: JSON.stringify({ query, variables }),
  });
}

const BATCHES = `{ batches(first: 1) { edges { node { id } } } }`;
const SUBMIT = `mutation { submitBatch(input: { tasks: [{ kind: "echo", input: 1 }] }) { batch { id } } }`;

it("/readyz is 200 when ready and 503 with a reason while PostgreSQL is down; GraphQL answers 503 SERVICE_UNAVAILABLE with Retry-After", async () => {
  const server = await startServer(postgres.url);
  try {
    expect(await readyz(server)).toEqual({ status: 200, body: { status: "ready" } });

    await stopPostgres();
    const down = await readyz(server);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: "unavailable", reason: expect.stringMatching(/^database unreachable/) });
    // Liveness is another question: the process itself is fine.
    expect((await fetch(`http://127.0.0.1:${server.app.port}/healthz`)).status).toBe(200);

    for (const query of [BATCHES, SUBMIT]) {
      const response = await post(server, query);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]!.extensions.code).toBe("SERVICE_UNAVAILABLE");
      expect(body.errors[0]!.message).toMatch(/try again/);
    }

    await restartPostgres();
    await waitFor(async () => ((await readyz(server)).status === 200 ? true : undefined), 30_000, "/readyz to be 200 again");
    expect((await post(server, BATCHES)).status).toBe(200);
  } finally {
    await restartPostgres();
    await server.stop();
  }
});

it("/readyz is 503 while a migration is not applied, and (API role) while the LISTEN connection is down", async () => {
  // A database of its own, so that it can refuse new connections while `admin` stays connected.
  await admin.query(`create database readiness`);
  const url = new URL(postgres.url);
  url.pathname = "/readiness";
  const server = await startServer(url.toString(), { role: "api" });
  const db = new pg.Pool({ connectionString: url.toString(), max: 1 });
  db.on("error", () => undefined);
  try {
    expect((await readyz(server)).status).toBe(200);

    const { rows } = await db.query<{ name: string }>(`delete from batchwire_migrations where name = (select max(name) from batchwire_migrations) returning name`);
    try {
      expect(await readyz(server)).toEqual({ status: 503, body: { status: "unavailable", reason: `migrations not applied: ${rows[0]!.name}` } });
    } finally {
      await db.query(`insert into batchwire_migrations (name, run_on) values ($1, now())`, [rows[0]!.name]);
    }
    expect((await readyz(server)).status).toBe(200);

    // The LISTEN connection is cut and cannot come back while the database refuses new
    // connections; the pool's open ones still answer.
    await admin.query(`alter database readiness with allow_connections false`);
    try {
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'batchwire-listen'`);
      const cut = await waitFor(async () => {
        const answer = await readyz(server);
        return answer.body.reason?.startsWith("LISTEN") ? answer : undefined;
      }, 30_000, "/readyz to report the LISTEN connection");
      expect(cut).toEqual({ status: 503, body: { status: "unavailable", reason: "LISTEN connection down: live events would not arrive" } });
    } finally {
      await admin.query(`alter database readiness with allow_connections true`);
    }
    await waitFor(async () => ((await readyz(server)).status === 200 ? true : undefined), 30_000, "the LISTEN connection to come back");
  } finally {
    await db.end();
    await server.stop();
    await admin.query(`drop database readiness with (force)`);
  }
});

it("a worker logs an outage when it starts and when it ends, not every failed query in between", async () => {
  const worker = await startProcess({ ROLE: "worker", DATABASE_URL: postgres.url, POLL_INTERVAL_SECONDS: "0.5" });
  try {
    const before = worker.output().length;
    await stopPostgres();
    await waitFor(() => (worker.output().includes('"msg":"database unreachable') ? true : undefined), 30_000, "the outage to be logged");
    // An outage of a few seconds: every work loop, the LISTEN connection and the maintenance
    // sweep fail again and again meanwhile.
    await sleep(5_000);
    await restartPostgres();
    await waitFor(() => (worker.output().includes('"msg":"database reachable again"') ? true : undefined), 30_000, "the end of the outage to be logged");

    const lines = worker
      .output()
      .slice(before)
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; failuresNotLogged?: number });
    const loud = lines.filter((line) => line.level >= 40);
    expect(loud.map((line) => line.msg)).toEqual(["database unreachable: retrying in the background"]);
    const ended = lines.find((line) => line.msg === "database reachable again")!;
    expect(ended.failuresNotLogged).toBeGreaterThan(0);
  } finally {
    await restartPostgres();
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }
}, 90_000);

it("during a long outage, one reminder a minute at most", async () => {
  const lines: { msg: string; failuresSinceLastLine?: number; failuresNotLogged?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  let now = 0;
  const outage = new DatabaseOutage(() => admin.query("select 1"), pino({ level: "info" }, sink), { now: () => now, probeMs: 3_600_000 });
  // A real refusal: nothing listens on that port.
  const refused = await new pg.Client({ host: "127.0.0.1", port: await freePort() }).connect().catch((error: unknown) => error);
  try {
    for (const at of [0, 10_000, 30_000, 59_000, 61_000, 90_000, 125_000, 127_000]) {
      now = at;
      expect(outage.report(refused, "test")).toBe(true);
    }
    expect(outage.report(new Error("a bug, not an outage"), "test")).toBe(false);
    now = 130_000;
    await outage.check();
    expect(lines.map((line) => line.msg)).toEqual([
      "database unreachable: retrying in the background",
      "database still unreachable",
      "database still unreachable",
      "database reachable again",
    ]);
    expect(lines[1]!.failuresSinceLastLine).toBe(4); // 10 s, 30 s, 59 s, and the one that logged
    expect(lines[3]!.failuresNotLogged).toBe(1);
  } finally {
    outage.stop();
  }
});
