// retries.test.ts: failed attempts retry per the kind's policy, show as RETRYING, and end FAILED
// with the error once the attempts run out.
import { expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { gqlOk, startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { expectCountersMatchRows, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({}, (file) => ({ db, server } = file));

interface TaskView {
  customId: string;
  status: string;
  attempts: number;
  result: unknown;
  error: { message: string; code: string } | null;
  finishedAt: string | null;
}

async function tasksOf(batchId: string): Promise<TaskView[]> {
  const data = await gqlOk<{ batch: { tasks: { edges: { node: TaskView }[] } } }>(
    server.url,
    `query($id: ID!) { batch(id: $id) { tasks(first: 100) { edges { node { customId status attempts result error { message code } finishedAt } } } } }`,
    { id: batchId },
  );
  return data.batch.tasks.edges.map((e) => e.node);
}

it("a fail task that fails twice succeeds on its third attempt, showing RETRYING in between", async () => {
  const batch = await submitOk(server.url, { tasks: [{ kind: "fail", input: { times: 2, message: "not yet" }, customId: "third-time" }] });

  const retrying = await waitFor(async () => {
    const [task] = await tasksOf(batch.id);
    return task?.status === "RETRYING" ? task : undefined;
  });
  expect(retrying.attempts).toBeGreaterThanOrEqual(1);
  expect(retrying.error).toEqual({ message: "not yet", code: "PLANNED_FAILURE" });

  const done = await waitForFinal(server.url, batch.id);
  expect(done.status).toBe("COMPLETED");
  expect(done.counts.succeeded).toBe(1);
  const [task] = await tasksOf(batch.id);
  expect(task).toMatchObject({ status: "SUCCEEDED", attempts: 3, result: { attempts: 3 }, error: null });
  await expectCountersMatchRows(db.pool, done);
});

it("a task that keeps failing ends FAILED after retryLimit + 1 attempts, and the batch COMPLETED", async () => {
  const batch = await submitOk(server.url, {
    tasks: [
      { kind: "fail", input: { times: 10, message: "always" }, customId: "hopeless" },
      { kind: "echo", input: "fine", customId: "fine" },
    ],
  });
  const done = await waitForFinal(server.url, batch.id);
  expect(done.status).toBe("COMPLETED");
  expect(done.finishedAt).not.toBeNull();
  expect(done.counts).toMatchObject({ total: 2, succeeded: 1, failed: 1, queued: 0, running: 0, retrying: 0 });
  expect(done.progress).toBe(1);
  const tasks = await tasksOf(batch.id);
  expect(tasks.find((t) => t.customId === "hopeless")).toMatchObject({
    status: "FAILED",
    attempts: 3,
    error: { message: "always", code: "PLANNED_FAILURE" },
  });
  await expectCountersMatchRows(db.pool, done);
});
