// taskKinds.test.ts: users add kinds through the library (createBatchwire({ kinds })) or a module
// named by TASK_KINDS_MODULE, without touching batchwire's source.
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { defineTaskKind } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { gqlOk, startServer } from "./helpers/server.ts";
import { submit, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const resultsQuery = `query($id: ID!) { batch(id: $id) { tasks(first: 10) { edges { node { status result } } } } }`;

it("runs a kind passed to createBatchwire, typed by its zod schema", async () => {
  const greet = defineTaskKind({
    name: "greet",
    input: z.object({ name: z.string().min(1) }),
    run: ({ name }, ctx) => ({ greeting: `hello ${name}`, attempt: ctx.attempt }),
  });
  const server = await startServer(db.url, {}, [greet]);
  try {
    const bad = await submit(server.url, { tasks: [{ kind: "greet", input: { name: "" } }] });
    expect(bad.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
    const batch = await submitOk(server.url, { tasks: [{ kind: "greet", input: { name: "ada" } }] });
    await waitForFinal(server.url, batch.id);
    const data = await gqlOk<{ batch: { tasks: { edges: { node: unknown }[] } } }>(server.url, resultsQuery, { id: batch.id });
    expect(data.batch.tasks.edges[0]!.node).toEqual({ status: "SUCCEEDED", result: { greeting: "hello ada", attempt: 1 } });
  } finally {
    await server.stop();
  }
});

it("loads the kinds a TASK_KINDS_MODULE exports, default and named", async () => {
  const server = await startServer(db.url, { taskKindsModule: "./test/fixtures/kinds.ts" });
  try {
    const kinds = await gqlOk<{ taskKinds: { name: string; policy: { retryLimit: number } }[] }>(server.url, `{ taskKinds { name policy { retryLimit } } }`);
    expect(kinds.taskKinds.map((k) => k.name)).toEqual(["add", "echo", "fail", "reverse", "sha256", "sleep"]);
    expect(kinds.taskKinds.find((k) => k.name === "reverse")!.policy.retryLimit).toBe(0);
    const batch = await submitOk(server.url, {
      tasks: [
        { kind: "reverse", input: { text: "abc" } },
        { kind: "add", input: { a: 2, b: 3 } },
      ],
    });
    await waitForFinal(server.url, batch.id);
    const data = await gqlOk<{ batch: { tasks: { edges: { node: unknown }[] } } }>(server.url, resultsQuery, { id: batch.id });
    expect(data.batch.tasks.edges.map((e) => e.node)).toEqual([
      { status: "SUCCEEDED", result: { reversed: "cba" } },
      { status: "SUCCEEDED", result: 5 },
    ]);
  } finally {
    await server.stop();
  }
});
