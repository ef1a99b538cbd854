// scheduling.test.ts: a higher-priority batch runs before a lower one's queued tasks, and a small
// batch submitted behind a big one is not starved by it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

async function startTimes(batchId: string): Promise<number[]> {
  const { rows } = await db.pool.query(`select extract(epoch from started_at) * 1000 as t from task where batch_id = $1`, [batchId]);
  return rows.map((r) => Number(r.t));
}

it("fetches a higher-priority batch's tasks before a lower one's still queued (one worker, concurrency 1)", async () => {
  const server: TestServer = await startServer(db.url, { workerConcurrency: 1 });
  try {
    const low = await submitOk(server.url, { tasks: Array.from({ length: 12 }, () => ({ kind: "sleep", input: { ms: 100 } })), priority: 0 });
    await waitFor(async () => ((await getBatch(server.url, low.id))!.counts.succeeded >= 1 ? true : undefined));
    const high = await submitOk(server.url, { tasks: Array.from({ length: 3 }, () => ({ kind: "sleep", input: { ms: 100 } })), priority: 5 });
    await waitForFinal(server.url, high.id);
    await waitForFinal(server.url, low.id);

    const highStarts = await startTimes(high.id);
    const lowStarts = await startTimes(low.id);
    const highDone = Math.max(...highStarts);
    // Every low task that had not started when the high batch arrived started after all of it.
    const lowAfterSubmit = lowStarts.filter((t) => t > Date.parse(high.createdAt));
    expect(lowAfterSubmit.length).toBeGreaterThan(0);
    const startedBeforeHigh = lowAfterSubmit.filter((t) => t < highDone);
    expect(startedBeforeHigh.length).toBeLessThanOrEqual(1); // at most the one already fetched
  } finally {
    await server.stop();
  }
});

it("runs a 10-task batch submitted behind a 20,000-task batch long before the big one finishes", async () => {
  const server: TestServer = await startServer(db.url);
  try {
    const big = await submitOk(server.url, { tasks: Array.from({ length: 20_000 }, (_, i) => ({ kind: "echo", input: i })) });
    await waitFor(async () => ((await getBatch(server.url, big.id))!.counts.succeeded >= 500 ? true : undefined), 60_000);
    const small = await submitOk(server.url, { tasks: Array.from({ length: 10 }, (_, i) => ({ kind: "echo", input: i })) });
    await waitForFinal(server.url, small.id, 60_000);
    const bigWhenSmallDone = (await getBatch(server.url, big.id))!;
    expect(bigWhenSmallDone.status).toBe("RUNNING");
    expect(bigWhenSmallDone.counts.succeeded).toBeLessThan(10_000);
    await waitForFinal(server.url, big.id, 120_000);
  } finally {
    await server.stop();
  }
});
