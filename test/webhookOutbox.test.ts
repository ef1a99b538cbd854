// webhookOutbox.test.ts: a batch's webhook event is written by the transaction that gives the batch
// its final status: both commit or neither does; one event per final status, however many flushes
// finish the batch, and another when a reopened batch finishes again. Also: the retry schedule.
import { describe, expect, it } from "vitest";
import { taskIdsByStatus } from "../src/batches/sql/lockTasks.ts";
import { applyTransitions, CANCELED_ERROR } from "../src/batches/transitions.ts";
import { retrySchedule, RETRY_LIMIT, DEFAULT_RETRY_BASE_SECONDS } from "../src/webhooks/queue.ts";
import type { TestDatabase } from "./helpers/database.ts";
import { gqlOk, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({ workerConcurrency: 50 }, (file) => ({ db, server } = file));

async function events(batchId: string): Promise<{ type: string; status: string; failed: number }[]> {
  const { rows } = await db.pool.query(
    `select type, batch->>'status' as status, (batch->'counts'->>'failed')::int as failed from webhook_event where batch_id = $1 order by created_at`,
    [batchId],
  );
  return rows;
}

describe("with no worker running (the test moves the batch itself)", () => {
  let apiDb: TestDatabase;
  let api: TestServer;
  serverForFile({ role: "api" }, (file) => ({ db: apiDb, server: api } = file));

  async function eventsIn(batchId: string) {
    const { rows } = await apiDb.pool.query(`select type from webhook_event where batch_id = $1`, [batchId]);
    return rows;
  }

  it("writes the final status and its event in one transaction: rolled back, neither is there; committed, both are", async () => {
    const batch = await submitOk(api.url, { tasks: [{ kind: "echo", input: 1 }] });

    const cancelIn = async (finish: "commit" | "rollback") => {
      const client = await apiDb.pool.connect();
      try {
        await client.query("begin");
        const ids = await taskIdsByStatus(client, batch.id, ["QUEUED"]);
        await applyTransitions(
          client,
          ids.map((taskId) => ({ taskId, to: "CANCELED", from: ["QUEUED"], error: CANCELED_ERROR })),
          { batches: [{ batchId: batch.id, status: "CANCELING" }] },
        );
        const inside = await client.query(
          `select (select status from batch where id = $1) as status, (select count(*)::int from webhook_event where batch_id = $1) as events`,
          [batch.id],
        );
        expect(inside.rows[0]).toEqual({ status: "CANCELED", events: 1 });
        await client.query(finish);
      } finally {
        client.release();
      }
    };

    await cancelIn("rollback");
    expect((await apiDb.pool.query(`select status from batch where id = $1`, [batch.id])).rows[0].status).toBe("QUEUED");
    expect(await eventsIn(batch.id)).toEqual([]);

    await cancelIn("commit");
    expect((await apiDb.pool.query(`select status from batch where id = $1`, [batch.id])).rows[0].status).toBe("CANCELED");
    expect(await eventsIn(batch.id)).toEqual([{ type: "batch.canceled" }]);
  });
});

it("records one event for a batch that many concurrent flushes finish", async () => {
  const batch = await submitOk(server.url, { tasks: Array.from({ length: 500 }, (_, i) => ({ kind: "echo", input: i })) });
  const done = await waitForFinal(server.url, batch.id);
  expect(done.status).toBe("COMPLETED");
  expect(await events(batch.id)).toEqual([{ type: "batch.completed", status: "COMPLETED", failed: 0 }]);
});

it("records another event when a batch reopened by retryFailedTasks finishes again", async () => {
  // `fail` allows 3 attempts: this task ends FAILED, and its retry (a 4th attempt) succeeds.
  const batch = await submitOk(server.url, { tasks: [{ kind: "fail", input: { times: 3 } }, { kind: "echo", input: 1 }] });
  await waitForFinal(server.url, batch.id);
  expect(await events(batch.id)).toEqual([{ type: "batch.completed", status: "COMPLETED", failed: 1 }]);
  await gqlOk(server.url, `mutation($id: ID!) { retryFailedTasks(batchId: $id) { batch { id } } }`, { id: batch.id });
  const again = await waitForFinal(server.url, batch.id);
  expect(again.counts.failed).toBe(0);
  expect(await events(batch.id)).toEqual([
    { type: "batch.completed", status: "COMPLETED", failed: 1 },
    { type: "batch.completed", status: "COMPLETED", failed: 0 },
  ]);
});

it("retries for more than 24 hours with the default base, the first retry within 30 s", () => {
  const schedule = retrySchedule(DEFAULT_RETRY_BASE_SECONDS);
  expect(schedule).toHaveLength(RETRY_LIMIT);
  expect(schedule[0]).toEqual({ minSeconds: 10, maxSeconds: 20 });
  const least = schedule.reduce((sum, step) => sum + step.minSeconds, 0);
  const most = schedule.reduce((sum, step) => sum + step.maxSeconds, 0);
  expect(least).toBeGreaterThan(24 * 3600);
  // The README's figures: 16 retries over 25.7 to 29.7 hours, at most 4 hours apart.
  expect([Math.round(least / 360) / 10, Math.round(most / 360) / 10]).toEqual([25.7, 29.7]);
  expect(Math.max(...schedule.map((s) => s.maxSeconds))).toBe(4 * 3600);
  // The largest base allowed (WEBHOOK_RETRY_BASE_SECONDS <= 15) still retries within 30 s.
  expect(retrySchedule(15)[0]!.maxSeconds).toBe(30);
});
