// pool.ts: the pg connection pool and the transaction helper every atomic change goes through.
import pg from "pg";
import type { Logger } from "../logger.ts";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// Return bigint counts as JS numbers: counters stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

// A checked-out client whose connection drops between two queries emits "error"; with no
// listener that would crash the process. The next query on it fails instead, and the caller
// (withRetries) runs the transaction again on a fresh connection.
const ignoreDroppedConnection = () => undefined;

export function createPool(connectionString: string, max: number, log: Logger): Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: "batchwire" });
  // An idle client losing its connection (server restart, pg_terminate_backend) must not crash us.
  pool.on("error", (error) => log.warn({ err: error }, "idle database connection lost"));
  // The pool takes its idle listener off a client as it hands it out, and `await pool.connect()`
  // resumes its caller a tick later: a FATAL read together with a new connection's ReadyForQuery
  // (a backend terminated while this process stalled) would land in between. So every client
  // carries this listener from its first connect on.
  pool.on("connect", (client) => client.on("error", ignoreDroppedConnection));
  return pool;
}

/** A client from the pool (which cannot crash the process when its connection drops). */
export async function checkout(pool: Pool): Promise<PoolClient & { done(): void }> {
  const client = await pool.connect();
  return Object.assign(client, { done: () => client.release() });
}

/** Runs `fn` in one transaction on one connection; rolls back on any error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await checkout(pool);
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.done();
  }
}

/** pg-boss's `db` option: lets its statements run inside our transaction. */
export function bossDb(client: PoolClient) {
  return {
    executeSql: (text: string, values?: unknown[]) => client.query(text, values as unknown[]),
  };
}
