// terminalInterrupt.test.ts: Ctrl-C in the terminal that runs `npm start`. The terminal sends
// SIGINT to its whole foreground process group (npm, node and, before, the embedded PostgreSQL);
// the stop must be as clean as a SIGTERM's: exit 0, no stack trace, tasks in flight finished or
// released for the next start, and the embedded PostgreSQL stopped last, by batchwire.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OWNER_FILE } from "../src/db/dataDirLock.ts";
import { runningEmbeddedUrl } from "../src/db/embedded.ts";
import { isAlive, postmasterPid, startProcess, type ServerProcess } from "./helpers/process.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";
import { gqlOk, waitFor } from "./helpers/server.ts";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "batchwire-ctrl-c-"));
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** What a stop that went wrong prints: a stack frame, an unhandled event, PostgreSQL killed under us. */
function expectNoTrouble(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toContain("Unhandled");
  expect(output).not.toContain("administrator command");
  expect(output).not.toContain('"level":50');
}

async function tasksOf(url: string, batchId: string) {
  const data = await gqlOk<{ batch: { tasks: { edges: { node: { customId: string; status: string; attempts: number; error: { code: string } | null } }[] } } }>(
    url,
    `query($id: ID!) { batch(id: $id) { tasks(first: 10) { edges { node { customId status attempts error { code } } } } } }`,
    { id: batchId },
  );
  return Object.fromEntries(data.batch.tasks.edges.map(({ node }) => [node.customId, node]));
}

async function interrupt(server: ServerProcess): Promise<number | null> {
  server.killGroup("SIGINT");
  return server.exited;
}

it("Ctrl-C under `npm start` stops like SIGTERM: exit 0, no stack trace, tasks in flight finished or released, PostgreSQL stopped last", async () => {
  const first = await startProcess({ DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: "4000" }, { npm: true });
  const postgresPid = postmasterPid(dataDir);
  expect(postgresPid).toBeDefined();
  const batch = await submitOk(first.url, {
    tasks: [
      { kind: "sleep", input: { ms: 1_500 }, customId: "short" }, // finishes within the grace period
      { kind: "sleep", input: { ms: 8_000 }, customId: "long" }, // outlasts it
    ],
  });
  await waitFor(async () => ((await getBatch(first.url, batch.id))!.counts.running === 2 ? true : undefined), 30_000, "both tasks running");

  expect(await interrupt(first)).toBe(0);
  const output = first.output();
  expectNoTrouble(output);
  expect(output).toContain('"msg":"batchwire stopped"');
  // PostgreSQL went last: after everything batchwire had to write, by batchwire's own stop.
  expect(output.indexOf('"msg":"embedded PostgreSQL stopped"')).toBeGreaterThan(output.indexOf('"signal":"SIGINT"'));
  expect(output.indexOf('"msg":"embedded PostgreSQL stopped"')).toBeLessThan(output.indexOf('"msg":"batchwire stopped"'));
  expect(isAlive(postgresPid!)).toBe(false);
  expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
  expect(existsSync(join(dataDir, OWNER_FILE))).toBe(false);

  // What the next start finds, before any worker runs: the short task finished, the long one was
  // handed back to pg-boss as a retry (not left active for the heartbeat sweep to find much later).
  const api = await startProcess({ DATA_DIR: dataDir, ROLE: "api" }, { npm: true });
  try {
    const tasks = await tasksOf(api.url, batch.id);
    expect(tasks.short).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    expect(tasks.long).toMatchObject({ status: "RETRYING", attempts: 1, error: { code: "ABORTED" } });
    const db = new pg.Client({ connectionString: (await runningEmbeddedUrl(dataDir))! });
    await db.connect();
    try {
      const { rows } = await db.query(`select state from pgboss.job where name = 'task.sleep' and data->>'taskId' = any(
        select id::text from task where batch_id = $1 and custom_id = 'long')`, [batch.id]);
      expect(rows).toEqual([{ state: "retry" }]);
    } finally {
      await db.end();
    }
  } finally {
    expect(await interrupt(api)).toBe(0);
  }
  expectNoTrouble(api.output());

  const again = await startProcess({ DATA_DIR: dataDir }, { npm: true });
  try {
    const done = await waitForFinal(again.url, batch.id);
    expect(done.counts.succeeded).toBe(2);
    expect((await tasksOf(again.url, batch.id)).long).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
  } finally {
    expect(await interrupt(again)).toBe(0);
  }
  expectNoTrouble(again.output());
}, 180_000);

it("a second Ctrl-C forces the exit without a stack trace, and the embedded PostgreSQL still stops", async () => {
  const server = await startProcess({ DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: "60000" }, { npm: true });
  const postgresPid = postmasterPid(dataDir)!;
  const batch = await submitOk(server.url, { tasks: [{ kind: "sleep", input: { ms: 60_000 } }] });
  await waitFor(async () => ((await getBatch(server.url, batch.id))!.counts.running === 1 ? true : undefined), 30_000, "the task running");

  server.killGroup("SIGINT");
  await waitFor(() => (server.output().includes('"signal":"SIGINT"') ? true : undefined), 30_000, "the graceful stop to begin");
  // Signals within a second of the first are the same Ctrl-C (npm forwards the terminal's SIGINT
  // to node, which gets the terminal's own too); a later one is the person pressing it again.
  await sleep(1_200);
  server.killGroup("SIGINT");
  expect(await server.exited).not.toBe(0);
  expectNoTrouble(server.output());
  expect(server.output()).toContain("second signal: exiting now");
  await waitFor(() => (isAlive(postgresPid) ? undefined : true), 30_000, "the embedded PostgreSQL to stop");
}, 120_000);
