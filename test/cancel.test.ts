// cancel.test.ts: cancelBatch ends queued tasks at once, aborts running ones on another
// process, and the batch goes CANCELING -> CANCELED with counts that add up.
import { expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { gql, gqlOk, startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { startProcess } from "./helpers/process.ts";
import { BATCH_FIELDS, expectCountersMatchRows, getBatch, submitOk, waitForFinal, type BatchView } from "./helpers/batches.ts";
import { watch, wsClient } from "./helpers/subscriptions.ts";

let db: TestDatabase;
let api: TestServer;

serverForFile({ role: "api" }, (file) => ({ db, server: api } = file));

const CANCEL = `mutation($id: ID!) { cancelBatch(id: $id) { batch { ${BATCH_FIELDS} } } }`;

it("cancels queued tasks at once and aborts running ones on a worker process", async () => {
  const worker = await startProcess({ ROLE: "worker", DATABASE_URL: db.url, WORKER_CONCURRENCY: "2" });
  const client = wsClient(api.wsUrl);
  try {
    const batch = await submitOk(api.url, { tasks: Array.from({ length: 20 }, () => ({ kind: "sleep", input: { ms: 30_000 } })) });
    await waitFor(async () => ((await getBatch(api.url, batch.id))!.counts.running === 2 ? true : undefined));
    const watcher = watch(client, batch.id);
    await watcher.firstEvent;

    const { cancelBatch } = await gqlOk<{ cancelBatch: { batch: BatchView } }>(api.url, CANCEL, { id: batch.id });
    // The 18 that had not started are canceled by the mutation itself.
    expect(cancelBatch.batch.counts.canceled).toBeGreaterThanOrEqual(18);
    expect(["CANCELING", "CANCELED"]).toContain(cancelBatch.batch.status);
    const { rows: jobs } = await db.pool.query(
      `select count(*)::int as n from pgboss.job where id in (select id from task where batch_id = $1) and state = 'cancelled'`,
      [batch.id],
    );
    expect(jobs[0].n).toBeGreaterThanOrEqual(18);

    // The two running 30-second sleeps are aborted, not waited for.
    await watcher.completed;
    const final = watcher.events.at(-1)!.batch;
    expect(final.status).toBe("CANCELED");
    expect(final.counts).toEqual({ total: 20, queued: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, canceled: 20, expired: 0 });
    expect(final.finishedAt).not.toBeNull();
    await expectCountersMatchRows(db.pool, final);
    const { rows } = await db.pool.query(`select max(attempts)::int as most, min(error->>'code') as code from task where batch_id = $1`, [batch.id]);
    expect(rows[0]).toEqual({ most: 1, code: "CANCELED" });
  } finally {
    await client.dispose();
    worker.kill("SIGTERM");
    await worker.exited;
  }
});

it("cancelling a finished batch changes nothing and returns it", async () => {
  const worker = await startServer(db.url, { role: "worker" });
  try {
    const batch = await submitOk(api.url, { tasks: [{ kind: "echo", input: 1 }] });
    const done = await waitForFinal(api.url, batch.id);
    const { cancelBatch } = await gqlOk<{ cancelBatch: { batch: BatchView } }>(api.url, CANCEL, { id: batch.id });
    expect(done).toMatchObject(cancelBatch.batch);
  } finally {
    await worker.stop();
  }
});

it("cancelling an unknown batch is NOT_FOUND", async () => {
  const response = await gql(api.url, CANCEL, { id: "00000000-0000-4000-8000-000000000000" });
  expect(response.errors![0]!.extensions?.code).toBe("NOT_FOUND");
});
