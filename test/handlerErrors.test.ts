// handlerErrors.test.ts: what a failed attempt records as its error code when the handler's own
// error carries none but its cause does: fetch() fails with "fetch failed", its `cause` says
// ECONNREFUSED, and that is the code a person needs to see.
import { z } from "zod";
import { afterAll, beforeAll, expect, it } from "vitest";
import { defineTaskKind } from "../src/index.ts";
import { freePort } from "../src/db/embedded.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { gqlOk, startServer, type TestServer } from "./helpers/server.ts";
import { submitOk, waitForFinal } from "./helpers/batches.ts";

const fetchUrl = defineTaskKind({
  name: "fetch-url",
  input: z.object({ url: z.url() }),
  policy: { retryLimit: 0 },
  async run({ url }, ctx) {
    const response = await fetch(url, { signal: ctx.signal });
    return { status: response.status };
  },
});

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url, {}, [fetchUrl]);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it("a handler error whose cause carries a system code (fetch's ECONNREFUSED) reports that code", async () => {
  const closed = `http://127.0.0.1:${await freePort()}/`; // nothing listens there
  const batch = await submitOk(server.url, { tasks: [{ kind: "fetch-url", input: { url: closed } }] });
  expect((await waitForFinal(server.url, batch.id)).counts.failed).toBe(1);
  const data = await gqlOk<{ batch: { tasks: { edges: { node: { status: string; error: { code: string; message: string } } }[] } } }>(
    server.url,
    `query($id: ID!) { batch(id: $id) { tasks(first: 1) { edges { node { status error { code message } } } } } }`,
    { id: batch.id },
  );
  const task = data.batch.tasks.edges[0]!.node;
  expect(task.status).toBe("FAILED");
  expect(task.error.code).toBe("ECONNREFUSED");
  expect(task.error.message).toMatch(/^fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
});
