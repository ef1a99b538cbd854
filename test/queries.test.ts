// queries.test.ts: batch, batches and batch.tasks page as Relay connections; taskKinds describes kinds.
import { describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { gql, gqlOk, startServer, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({}, (file) => ({ db, server } = file));

interface Page<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null; startCursor: string | null };
  edges: { cursor: string; node: T }[];
}

describe("batch(id)", () => {
  it("is null for an unknown id and for a malformed one, without an error", async () => {
    const response = await gql(server.url, `{ a: batch(id: "00000000-0000-4000-8000-000000000000") { id } b: batch(id: "nope") { id } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ a: null, b: null });
  });
});

describe("batch.tasks", () => {
  it("pages through tasks in index order, filters by status, and counts them", async () => {
    const tasks = Array.from({ length: 25 }, (_, i) =>
      i % 5 === 0 ? { kind: "fail", input: { times: 9 }, customId: `t${i}` } : { kind: "echo", input: { i }, customId: `t${i}` },
    );
    const batch = await submitOk(server.url, { tasks });
    await waitForFinal(server.url, batch.id);

    const query = `query($id: ID!, $after: String, $status: TaskStatus) {
      batch(id: $id) { tasks(first: 10, after: $after, status: $status) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
        edges { cursor node { index customId kind status attempts input result error { code } createdAt startedAt finishedAt updatedAt progress batchId id } }
      } } }`;
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: { batch: { tasks: Page<{ index: number }> } } = await gqlOk(server.url, query, { id: batch.id, after });
      const page = data.batch.tasks;
      expect(page.totalCount).toBe(25);
      seen.push(...page.edges.map((e) => e.node.index));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));

    const failed = await gqlOk<{ batch: { tasks: Page<{ index: number; status: string; error: { code: string } }> } }>(server.url, query, {
      id: batch.id,
      status: "FAILED",
    });
    expect(failed.batch.tasks.totalCount).toBe(5);
    expect(failed.batch.tasks.edges.map((e) => e.node.index)).toEqual([0, 5, 10, 15, 20]);
    expect(failed.batch.tasks.edges.every((e) => e.node.status === "FAILED" && e.node.error.code === "PLANNED_FAILURE")).toBe(true);

    const one = await gqlOk<{ batch: { tasks: Page<Record<string, unknown>> } }>(server.url, query, { id: batch.id, status: "SUCCEEDED" });
    expect(one.batch.tasks.edges[0]!.node).toMatchObject({ index: 1, customId: "t1", kind: "echo", status: "SUCCEEDED", attempts: 1, input: { i: 1 }, result: { i: 1 }, error: null, progress: 1, batchId: batch.id });
  });

  it("refuses a cursor it did not hand out", async () => {
    const batch = await submitOk(server.url, { tasks: [{ kind: "echo", input: 1 }] });
    const response = await gql(server.url, `query($id: ID!) { batch(id: $id) { tasks(first: 5, after: "x'; drop table task") { totalCount } } }`, { id: batch.id });
    expect(response.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("batches", () => {
  it("lists batches newest first, pages with cursors, and filters by status", async () => {
    const isolated = await createTestDatabase();
    const api = await startServer(isolated.url, { role: "api" });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await submitOk(api.url, { tasks: [{ kind: "echo", input: i }] })).id);
      const query = `query($after: String, $status: BatchStatus) { batches(first: 2, after: $after, status: $status) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id status } } } }`;
      const listed: string[] = [];
      let after: string | null = null;
      for (;;) {
        const data: { batches: Page<{ id: string }> } = await gqlOk(api.url, query, { after });
        expect(data.batches.totalCount).toBe(5);
        listed.push(...data.batches.edges.map((e) => e.node.id));
        if (!data.batches.pageInfo.hasNextPage) break;
        after = data.batches.pageInfo.endCursor;
      }
      expect(listed).toEqual([...ids].reverse());
      const completed = await gqlOk<{ batches: Page<{ id: string }> }>(api.url, query, { status: "COMPLETED" });
      expect(completed.batches.totalCount).toBe(0);
      const queued = await gqlOk<{ batches: Page<{ id: string }> }>(api.url, query, { status: "QUEUED" });
      expect(queued.batches.totalCount).toBe(5);
    } finally {
      await api.stop();
      await isolated.drop();
    }
  });
});

describe("taskKinds", () => {
  it("lists every built-in kind with its input JSON Schema and retry policy", async () => {
    const data = await gqlOk<{ taskKinds: { name: string; inputSchema: Record<string, unknown>; policy: Record<string, unknown> }[] }>(
      server.url,
      `{ taskKinds { name description inputSchema policy { timeoutSeconds retryLimit retryDelaySeconds retryBackoff retryDelayMaxSeconds concurrency batchSize } } }`,
    );
    expect(data.taskKinds.map((k) => k.name)).toEqual(["echo", "fail", "sha256", "sleep"]);
    const fail = data.taskKinds.find((k) => k.name === "fail")!;
    expect(fail.policy).toMatchObject({ retryLimit: 2, retryDelaySeconds: 1, retryBackoff: false });
    const sleep = data.taskKinds.find((k) => k.name === "sleep")!;
    expect(sleep.inputSchema).toMatchObject({ type: "object", properties: { ms: { type: "integer" } }, required: ["ms"] });
  });
});
