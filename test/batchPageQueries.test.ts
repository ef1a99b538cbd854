// batchPageQueries.test.ts: what a batch's page reads besides the batch: a task found by its
// customId, the failed tasks grouped by error, and the tasks finished over time.
import { describe, expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { gql, gqlOk, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { submitOk, waitForFinal, type BatchView } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({}, (file) => ({ db, server } = file));

let finished: Promise<BatchView> | undefined;

/** One batch for the file: 4 echo tasks, 3 that fail with "boom A", 2 with "boom B" (each fails every attempt). */
function mixedBatch(): Promise<BatchView> {
  finished ??= (async () => {
    const tasks = [
      ...Array.from({ length: 4 }, (_, i) => ({ kind: "echo", input: { i }, customId: `ok-${i}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ kind: "fail", input: { times: 9, message: "boom A" }, customId: `a-${i}` })),
      ...Array.from({ length: 2 }, (_, i) => ({ kind: "fail", input: { times: 9, message: "boom B" }, customId: `b-${i}` })),
    ];
    const batch = await submitOk(server.url, { tasks });
    return waitForFinal(server.url, batch.id);
  })();
  return finished;
}

describe("batch.tasks(customId)", () => {
  it("finds the one task with that customId, within a status filter too", async () => {
    const batch = await mixedBatch();
    const query = `query($id: ID!, $customId: String, $status: TaskStatus) {
      batch(id: $id) { tasks(first: 5, customId: $customId, status: $status) { totalCount edges { node { index customId status } } } } }`;
    const found = await gqlOk<{ batch: { tasks: { totalCount: number; edges: { node: unknown }[] } } }>(server.url, query, { id: batch.id, customId: "a-1" });
    expect(found.batch.tasks).toEqual({ totalCount: 1, edges: [{ node: { index: 5, customId: "a-1", status: "FAILED" } }] });
    const wrongStatus = await gqlOk<{ batch: { tasks: unknown } }>(server.url, query, { id: batch.id, customId: "a-1", status: "SUCCEEDED" });
    expect(wrongStatus.batch.tasks).toEqual({ totalCount: 0, edges: [] });
    const none = await gqlOk<{ batch: { tasks: unknown } }>(server.url, query, { id: batch.id, customId: "a-" });
    expect(none.batch.tasks).toEqual({ totalCount: 0, edges: [] });
  });
});

describe("batch.errorGroups", () => {
  it("groups FAILED tasks by error code and message, largest first, with counts", async () => {
    const batch = await mixedBatch();
    const data = await gqlOk<{ batch: { errorGroups: unknown[] } }>(
      server.url,
      `query($id: ID!) { batch(id: $id) { errorGroups { code message count firstIndex } } }`,
      { id: batch.id },
    );
    expect(data.batch.errorGroups).toEqual([
      { code: "PLANNED_FAILURE", message: "boom A", count: 3, firstIndex: 4 },
      { code: "PLANNED_FAILURE", message: "boom B", count: 2, firstIndex: 7 },
    ]);
    const first = await gqlOk<{ batch: { errorGroups: unknown[] } }>(server.url, `query($id: ID!) { batch(id: $id) { errorGroups(first: 1) { message } } }`, {
      id: batch.id,
    });
    expect(first.batch.errorGroups).toEqual([{ message: "boom A" }]);
    const tooMany = await gql(server.url, `query($id: ID!) { batch(id: $id) { errorGroups(first: 1000) { count } } }`, { id: batch.id });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("batch.finishedOverTime", () => {
  it("counts every finished task once, in slices from the batch's start to its end", async () => {
    const batch = await mixedBatch();
    const data = await gqlOk<{ batch: { startedAt: string; finishedAt: string; finishedOverTime: { start: string; end: string; finished: number; failed: number }[] } }>(
      server.url,
      `query($id: ID!) { batch(id: $id) { startedAt finishedAt finishedOverTime(slices: 10) { start end finished failed } } }`,
      { id: batch.id },
    );
    const slices = data.batch.finishedOverTime;
    expect(slices).toHaveLength(10);
    expect(slices[0]!.start).toBe(data.batch.startedAt);
    expect(Date.parse(slices.at(-1)!.end)).toBeCloseTo(Date.parse(data.batch.finishedAt), -1);
    expect(slices.reduce((sum, s) => sum + s.finished, 0)).toBe(9);
    expect(slices.reduce((sum, s) => sum + s.failed, 0)).toBe(5);
    // The failures came after two retries a second apart: not in the first slice.
    expect(slices[0]!.failed).toBe(0);
  });
});
