// taskBacklog.test.ts: the read behind batchwire_tasks and batchwire_oldest_queued_task_age_seconds,
// on a real database: it counts only the tasks of unfinished batches, serves every scrape within
// its cache period from one read, and gives up at its statement timeout (the gauges then stay
// empty) without leaving the timeout on the pooled connection.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";
import { taskBacklog } from "../src/observability/taskBacklog.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;
let pool: pg.Pool;
const log = createLogger("silent");

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** A batch with tasks of the given kinds and statuses, written straight to the tables. */
async function batchOf(status: string, tasks: [kind: string, status: string][]): Promise<void> {
  const count = (s: string) => tasks.filter(([, t]) => t === s).length;
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into batch (owner, status, total, queued, running, retrying, succeeded, failed, canceled)
     values ('t', $1, $2, $3, $4, $5, $6, $7, $8) returning id`,
    [status, tasks.length, count("QUEUED"), count("RUNNING"), count("RETRYING"), count("SUCCEEDED"), count("FAILED"), count("CANCELED")],
  );
  for (const [index, [kind, taskStatus]] of tasks.entries()) {
    await db.pool.query(`insert into task (id, batch_id, index, kind, input, status) values (gen_random_uuid(), $1, $2, $3, '{}', $4)`, [
      rows[0]!.id,
      index,
      kind,
      taskStatus,
    ]);
  }
}

it("counts the waiting and running tasks of unfinished batches by kind and status, zeros for every known kind", async () => {
  await batchOf("RUNNING", [["echo", "QUEUED"], ["echo", "QUEUED"], ["echo", "RUNNING"], ["sleep", "RETRYING"], ["echo", "SUCCEEDED"], ["echo", "FAILED"]]);
  await batchOf("COMPLETED", [["echo", "SUCCEEDED"], ["sleep", "FAILED"]]);
  const backlog = await taskBacklog(pool, () => ["echo", "sleep", "fail"], log, { cacheMs: 0 })();
  expect(backlog!.tasks).toEqual(
    expect.arrayContaining([
      { kind: "echo", status: "QUEUED", count: 2 },
      { kind: "echo", status: "RUNNING", count: 1 },
      { kind: "echo", status: "RETRYING", count: 0 },
      { kind: "sleep", status: "RETRYING", count: 1 },
      { kind: "sleep", status: "QUEUED", count: 0 },
      { kind: "fail", status: "QUEUED", count: 0 },
    ]),
  );
  expect(backlog!.tasks).toHaveLength(9);
  const ages = Object.fromEntries(backlog!.oldestQueuedAgeSeconds.map(({ kind, seconds }) => [kind, seconds]));
  expect(ages.echo).toBeGreaterThanOrEqual(0);
  expect(ages.sleep).toBe(0); // only RETRYING: none QUEUED
  expect(ages.fail).toBe(0);
});

it("serves every read within the cache period from one query", async () => {
  const read = taskBacklog(pool, () => ["echo"], log, { cacheMs: 60_000 });
  const before = (await read())!.tasks.find((t) => t.status === "QUEUED")!.count;
  await batchOf("QUEUED", [["echo", "QUEUED"]]);
  expect((await read())!.tasks.find((t) => t.status === "QUEUED")!.count).toBe(before);
  const fresh = taskBacklog(pool, () => ["echo"], log, { cacheMs: 0 });
  expect((await fresh())!.tasks.find((t) => t.status === "QUEUED")!.count).toBe(before + 1);
});

it("gives up at its statement timeout, reading nothing, and leaves the connection's timeout as it was", async () => {
  const locker = await db.pool.connect();
  try {
    await locker.query("begin");
    await locker.query("lock table task in access exclusive mode");
    const backlog = await taskBacklog(pool, () => ["echo"], log, { cacheMs: 0, timeoutMs: 200 })();
    expect(backlog).toBeUndefined();
  } finally {
    await locker.query("rollback");
    locker.release();
  }
  // The pool has one connection: the one the timed-out read used.
  expect((await pool.query<{ statement_timeout: string }>("show statement_timeout")).rows[0]!.statement_timeout).toBe("0");
  expect(await taskBacklog(pool, () => ["echo"], log, { cacheMs: 0, timeoutMs: 200 })()).toBeDefined();
});
