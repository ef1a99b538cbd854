// retryFailed.test.ts: retryFailedTasks redrives the dead-lettered jobs of FAILED tasks; the
// batch runs again and finishes with attempts that kept counting.
import { expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { gql, gqlOk, startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { BATCH_FIELDS, expectCountersMatchRows, submitOk, waitForFinal, type BatchView } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({}, (file) => ({ db, server } = file));

const RETRY = `mutation($id: ID!) { retryFailedTasks(batchId: $id) { batch { ${BATCH_FIELDS} } } }`;

async function deadLetters(batchId: string): Promise<number> {
  const { rows } = await db.pool.query(
    `select count(*)::int as n from pgboss.job where name = 'batchwire.dead-letter' and state = 'created' and data->>'batchId' = $1`,
    [batchId],
  );
  return rows[0].n;
}

it("re-queues FAILED tasks from the dead-letter queue; they run again and the batch finishes again", async () => {
  // `fail` allows 3 attempts; these fail 3 times, so they end FAILED and succeed on a 4th.
  const batch = await submitOk(server.url, {
    tasks: [
      { kind: "fail", input: { times: 3 }, customId: "f1" },
      { kind: "fail", input: { times: 3 }, customId: "f2" },
      { kind: "echo", input: "ok", customId: "e" },
    ],
  });
  const first = await waitForFinal(server.url, batch.id);
  expect(first.counts).toMatchObject({ succeeded: 1, failed: 2 });
  expect(await deadLetters(batch.id)).toBe(2);

  const { retryFailedTasks } = await gqlOk<{ retryFailedTasks: { batch: BatchView } }>(server.url, RETRY, { id: batch.id });
  expect(retryFailedTasks.batch.status).not.toBe("COMPLETED");
  expect(retryFailedTasks.batch.counts.failed).toBe(0);
  expect(retryFailedTasks.batch.finishedAt).toBeNull();
  expect(await deadLetters(batch.id)).toBe(0); // redriven, not copied

  const second = await waitForFinal(server.url, batch.id);
  expect(second.status).toBe("COMPLETED");
  expect(second.counts).toMatchObject({ total: 3, succeeded: 3, failed: 0 });
  expect(second.version).toBeGreaterThan(first.version);
  await expectCountersMatchRows(db.pool, second);
  const { rows } = await db.pool.query(`select custom_id, attempts, status from task where batch_id = $1 order by index`, [batch.id]);
  expect(rows).toEqual([
    { custom_id: "f1", attempts: 4, status: "SUCCEEDED" },
    { custom_id: "f2", attempts: 4, status: "SUCCEEDED" },
    { custom_id: "e", attempts: 1, status: "SUCCEEDED" },
  ]);
});

it("is a no-op for a batch without failed tasks, and NOT_FOUND for an unknown one", async () => {
  const batch = await submitOk(server.url, { tasks: [{ kind: "echo", input: 1 }] });
  const done = await waitForFinal(server.url, batch.id);
  const { retryFailedTasks } = await gqlOk<{ retryFailedTasks: { batch: BatchView } }>(server.url, RETRY, { id: batch.id });
  expect(done).toMatchObject(retryFailedTasks.batch);
  const missing = await gql(server.url, RETRY, { id: "00000000-0000-4000-8000-000000000000" });
  expect(missing.errors![0]!.extensions?.code).toBe("NOT_FOUND");
});

it("gives retried tasks a fresh completion window when the first one has closed", async () => {
  // Three attempts a second apart fit in the window; the retry comes after it closed.
  const batch = await submitOk(server.url, { tasks: [{ kind: "fail", input: { times: 3 } }], completionWindowSeconds: 6 });
  const first = await waitForFinal(server.url, batch.id);
  expect(first.counts.failed).toBe(1);
  await waitFor(() => (Date.now() > Date.parse(first.expiresAt!) ? true : undefined), 30_000, "the window to close");

  const { retryFailedTasks } = await gqlOk<{ retryFailedTasks: { batch: BatchView } }>(server.url, RETRY, { id: batch.id });
  expect(Date.parse(retryFailedTasks.batch.expiresAt!)).toBeGreaterThan(Date.now());
  const second = await waitForFinal(server.url, batch.id);
  expect(second).toMatchObject({ status: "COMPLETED", counts: { succeeded: 1, expired: 0 } });
});
