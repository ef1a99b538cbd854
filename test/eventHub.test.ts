// eventHub.test.ts: the LISTEN hub hands every watcher each newer snapshot, even a watcher that
// joins holding an older version than the others have seen, with the tasks of that snapshot; owner
// watchers get every changed batch of their owner, including those that changed while the LISTEN
// connection was down.
import { afterAll, beforeAll, expect, it } from "vitest";
import { changedTasks } from "../src/batches/sql/changedTasks.ts";
import type { BatchRow } from "../src/batches/rows.ts";
import { EventHub, type BatchUpdate } from "../src/events/hub.ts";
import { createPool, type Pool } from "../src/db/pool.ts";
import { createLogger } from "../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { waitFor } from "./helpers/server.ts";

let db: TestDatabase;
let pool: Pool;
let hub: EventHub;

beforeAll(async () => {
  db = await createTestDatabase();
  const log = createLogger("silent");
  pool = createPool(db.url, 2, log);
  hub = new EventHub(pool, db.url, log, { windowMs: 10 });
  await hub.start();
});

afterAll(async () => {
  await hub?.stop();
  await pool?.end();
  await db?.drop();
});

async function newBatch(owner = "t"): Promise<string> {
  const { rows } = await pool.query(`insert into batch (owner, total, queued) values ($1, 1, 1) returning id`, [owner]);
  return rows[0].id;
}

/** What a flush does to a batch, without the tasks: a new version and a NOTIFY. */
async function bump(id: string, status = "RUNNING"): Promise<void> {
  await pool.query(
    `with b as (update batch set version = version + 1, status = $2,
                 finished_at = case when $2 in ('COMPLETED', 'CANCELED', 'EXPIRED') then now() end
               where id = $1 returning id, version)
     select pg_notify('batchwire_batch_changed', json_build_object('b', id, 'v', version)::text) from b`,
    [id, status],
  );
}

it("delivers a newer snapshot to a watcher that joins behind the others", async () => {
  const id = await newBatch();
  const first: BatchUpdate[] = [];
  hub.watch(id, 0, (u) => first.push(u));
  await bump(id);
  await waitFor(() => (first.length === 1 ? true : undefined));
  expect(first[0]!.batch.version).toBe(1);

  // A second watcher read the batch at version 0 just before the change above.
  const late: BatchUpdate[] = [];
  hub.watch(id, 0, (u) => late.push(u));
  hub.poke(id);
  await waitFor(() => (late.length === 1 ? true : undefined));
  expect(late[0]!.batch.version).toBe(1);
  expect(first).toHaveLength(1); // nothing new for the first one

  await bump(id, "COMPLETED");
  await waitFor(() => (first.length === 2 && late.length === 2 ? true : undefined));
  expect(late[1]!.batch.status).toBe("COMPLETED");
});

it("stops calling a watcher once it unwatches, and forgets a batch nobody watches", async () => {
  const id = await newBatch();
  const seen: BatchUpdate[] = [];
  const unwatch = hub.watch(id, 0, (u) => seen.push(u));
  const before = hub.watchedBatches;
  unwatch();
  expect(hub.watchedBatches).toBe(before - 1);
  await bump(id);
  hub.poke(id);
  // A watcher on another batch proves the hub has read since.
  const other = await newBatch();
  const probe: BatchUpdate[] = [];
  const unprobe = hub.watch(other, 0, (u) => probe.push(u));
  await bump(other);
  await waitFor(() => (probe.length === 1 ? true : undefined));
  unprobe();
  expect(seen).toEqual([]);
});

it("reads the tasks of exactly the versions a snapshot covers: newer changes do not crowd older ones out", async () => {
  const id = await newBatch();
  // 150 tasks changed at version 1; then, after the batch was read at version 1, 150 more at 2.
  await pool.query(
    `insert into task (id, batch_id, index, kind, input, batch_version)
     select gen_random_uuid(), $1, i, 'echo', '1', case when i < 150 then 1 else 2 end from generate_series(0, 299) as i`,
    [id],
  );
  const read = await changedTasks(pool, new Map([[id, { since: 0, upTo: 1 }]]), 101);
  // All 101 rows come from version 1, so the caller knows more than 100 changed in that range.
  expect(read).toHaveLength(101);
  expect(read.every((task) => task.batch_version === 1)).toBe(true);
  const newer = await changedTasks(pool, new Map([[id, { since: 1, upTo: 2 }]]), 101);
  expect(newer.every((task) => task.batch_version === 2 && task.index >= 150)).toBe(true);
});

it("hands an owner watcher each changed batch of its owner once per version, and no other owner's", async () => {
  const seen: BatchRow[] = [];
  const unwatch = hub.watchOwner("acme", (batch) => seen.push(batch));
  const mine = await newBatch("acme");
  const theirs = await newBatch("globex");
  await bump(theirs);
  await bump(mine);
  await waitFor(() => (seen.length === 1 ? true : undefined));
  // A second read of the same version (a jobProgress watcher's poke) hands out nothing new.
  const unwatchOne = hub.watch(mine, 0, () => undefined);
  hub.poke(mine);
  await bump(mine, "COMPLETED");
  await waitFor(() => (seen.length === 2 ? true : undefined));
  unwatchOne();
  unwatch();
  expect(seen.map((b) => [b.id, b.version, b.status])).toEqual([
    [mine, 1, "RUNNING"],
    [mine, 2, "COMPLETED"],
  ]);
});

it("re-reads an owner's batches that changed while the LISTEN connection was down", async () => {
  const seen: BatchRow[] = [];
  const unwatch = hub.watchOwner("initech", (batch) => seen.push(batch));
  const id = await newBatch("initech");
  await bump(id);
  await waitFor(() => (seen.length === 1 ? true : undefined));

  await pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'batchwire-listen'`);
  await waitFor(() => (hub.connected ? undefined : true));
  // Nobody hears this one's NOTIFY.
  await bump(id, "COMPLETED");
  await waitFor(() => (seen.length === 2 ? true : undefined), 15_000, "the change made while disconnected");
  unwatch();
  expect(seen[1]).toMatchObject({ id, version: 2, status: "COMPLETED" });
});
