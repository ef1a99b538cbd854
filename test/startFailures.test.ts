// startFailures.test.ts: a start that cannot succeed ends with exit code 1 and one line on stderr
// that says why and what to do, not only a JSON stack.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runProcess } from "./helpers/process.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

function expectOneLine(stderr: string, line: string): void {
  expect(stderr.trim().split("\n")).toEqual([line]);
}

it("a port in use", async () => {
  const holder: Server = createServer();
  const port = await new Promise<number>((resolve) => holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port)));
  try {
    const { code, stderr, output } = await runProcess({ DATABASE_URL: db.url, PORT: String(port), HOST: "127.0.0.1" });
    expect(code).toBe(1);
    expectOneLine(stderr, `batchwire: port ${port} on 127.0.0.1 is already in use: stop what holds it, or set PORT to another port (0 picks a free one)`);
    expect(output).not.toMatch(/^\s+at /m);
  } finally {
    holder.close();
  }
});

it("a TASK_KINDS_MODULE that does not exist", async () => {
  const { code, stderr, output } = await runProcess({ DATABASE_URL: db.url, PORT: "0", HOST: "127.0.0.1", TASK_KINDS_MODULE: "./kinds/missing.ts" });
  expect(code).toBe(1);
  expectOneLine(stderr, expect.stringMatching(/^batchwire: TASK_KINDS_MODULE \.\/kinds\/missing\.ts could not be loaded: Cannot find module '.*kinds\/missing\.ts'/) as unknown as string);
  expect(output).not.toMatch(/^\s+at /m);
});

it("a database that cannot be reached", async () => {
  const { code, stderr } = await runProcess({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/postgres", PORT: "0", HOST: "127.0.0.1" });
  expect(code).toBe(1);
  expectOneLine(stderr, "batchwire: cannot reach PostgreSQL at 127.0.0.1:1 (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:1");
});
