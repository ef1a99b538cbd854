// errorMasking.test.ts: an unexpected failure (here a database error) reaches clients as
// "Unexpected error." with no SQL, table names or stack, over HTTP and WebSocket, in every mode;
// client errors keep their message and code.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { JOB_PROGRESS } from "./helpers/subscriptions.ts";
import { createKey, keyedClient, operationMessages, post, runOperation, type TestKey } from "./helpers/auth.ts";

let db: TestDatabase;
let production: TestServer;
let development: TestServer;
let key: TestKey;

const BATCHES = `{ batches(first: 5) { totalCount edges { node { id } } } }`;
const BATCH = `query($id: ID!) { batch(id: $id) { id } }`;
const LEAKS = [/batch_gone/i, /relation/i, /select/i, /\bowner\b/, /\bat .*\.ts/, /node_modules/, /stack/i, /42P01/];

beforeAll(async () => {
  db = await createTestDatabase();
  production = await startServer(db.url, { production: true, role: "api" });
  development = await startServer(db.url, { production: false, role: "api" });
  key = await createKey(db.pool, "acme");
});

afterEach(async () => {
  await db.pool.query(`alter table if exists batch_gone rename to batch`);
});

afterAll(async () => {
  await production?.stop();
  await development?.stop();
  await db?.drop();
});

/** Forces every read of the batch table to fail with a SQL error. */
const breakTable = () => db.pool.query(`alter table batch rename to batch_gone`);

function expectMasked(text: string): void {
  expect(text).toContain("Unexpected error.");
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
}

describe("error masking", () => {
  for (const mode of ["production", "development"] as const) {
    it(`shows the client no SQL or stack for a forced database error over HTTP (${mode})`, async () => {
      const server = mode === "production" ? production : development;
      await breakTable();
      const result = await post(server.url, BATCHES, { key: key.key });
      expectMasked(result.text);
      expect(result.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    });
  }

  it("shows the client no SQL or stack for a forced database error over WebSocket", async () => {
    const client = keyedClient(production.wsUrl, key.key);
    try {
      await breakTable();
      for (const [query, variables] of [
        [BATCHES, {}],
        [JOB_PROGRESS, { batchId: "00000000-0000-4000-8000-000000000000" }],
      ] as const) {
        const outcome = await runOperation(client, query, variables);
        expectMasked(JSON.stringify(operationMessages(outcome)));
        expectMasked(JSON.stringify(outcome));
      }
      // The connection survives the failure.
      await db.pool.query(`alter table batch_gone rename to batch`);
      expect((await runOperation(client, BATCHES)).completed).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it("keeps client errors' messages and codes", async () => {
    const result = await post(production.url, `mutation { cancelBatch(id: "00000000-0000-4000-8000-000000000000") { batch { id } } }`, { key: key.key });
    expect(result.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(result.errors?.[0]?.message).toContain("not found");
    const invalid = await post(production.url, BATCH, { key: key.key, variables: {} });
    expect(invalid.status).toBe(400);
    expect(invalid.errors?.[0]?.message).toContain("$id");
  });
});
