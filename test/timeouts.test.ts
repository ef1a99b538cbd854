// timeouts.test.ts: an attempt past its kind's timeoutSeconds is aborted and fails with TIMEOUT,
// then retries per the kind's policy.
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { defineTaskKind } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;
const signalsSeen: boolean[] = [];

const policy = { timeoutSeconds: 1, retryLimit: 1, retryDelaySeconds: 0, retryBackoff: false, retryDelayMaxSeconds: null };

// Listens to its signal, as a handler should.
const polite = defineTaskKind({
  name: "polite-hang",
  input: z.object({}),
  policy,
  run: (_, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => {
        signalsSeen.push(true);
        reject(new Error("stopped"));
      });
    }),
});

// Ignores its signal: the attempt still ends at the timeout.
const stubborn = defineTaskKind({
  name: "stubborn-hang",
  input: z.object({}),
  policy,
  run: () => new Promise(() => undefined),
});

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url, {}, [polite, stubborn]);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it("aborts attempts past timeoutSeconds with TIMEOUT and retries them per the policy", async () => {
  const batch = await submitOk(server.url, {
    tasks: [
      { kind: "polite-hang", input: {} },
      { kind: "stubborn-hang", input: {} },
    ],
  });
  const done = await waitForFinal(server.url, batch.id);
  expect(done.counts).toMatchObject({ failed: 2 });
  const { rows } = await db.pool.query(`select kind, attempts, error from task where batch_id = $1 order by index`, [batch.id]);
  expect(rows).toEqual([
    { kind: "polite-hang", attempts: 2, error: { code: "TIMEOUT", message: "timed out after 1s" } },
    { kind: "stubborn-hang", attempts: 2, error: { code: "TIMEOUT", message: "timed out after 1s" } },
  ]);
  expect(signalsSeen).toEqual([true, true]);
});
