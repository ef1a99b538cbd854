// connectionDroppedAtCheckout.test.ts: a pooled connection whose backend is terminated the moment
// the pool hands it out (its FATAL read together with its ReadyForQuery, as after a stalled event
// loop) does not crash the process: the checkout's statements fail, so the caller's retry takes a
// fresh connection. Found by the chaos run (a worker SIGSTOPped while its connections were
// terminated died of an unhandled 'error' event).
import { afterAll, beforeAll, expect, it } from "vitest";
import { checkout, createPool, withTransaction } from "../src/db/pool.ts";
import { createLogger } from "../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { terminatingProxy, type TerminatingProxy } from "./helpers/terminatingProxy.ts";

let db: TestDatabase;
let proxy: TerminatingProxy;

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await terminatingProxy(db.url);
});

afterAll(async () => {
  await proxy?.close();
  await db?.drop();
});

it("a connection terminated as it is checked out fails its statements instead of crashing the process", async () => {
  const pool = createPool(proxy.url, 2, createLogger("silent"));
  try {
    const client = await checkout(pool);
    await expect(client.query("select 1")).rejects.toThrow();
    client.done();
    await expect(withTransaction(pool, (tx) => tx.query("select 1"))).rejects.toThrow();
    expect(proxy.terminated).toBe(2);
  } finally {
    await pool.end();
  }
});
