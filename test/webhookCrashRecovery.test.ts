// webhookCrashRecovery.test.ts: no webhook event is lost to a crash. A worker SIGKILLed right after
// a batch's final status committed leaves the event in the outbox, and the next worker delivers
// it; one killed in the middle of an attempt has the attempt made again, with the same webhook-id
// (at least once); a delivery survives its connections to PostgreSQL being cut.
import { randomUUID } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { createKey, type TestKey } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import { startProcess } from "./helpers/process.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { createEndpoint, startReceiver, submitAs, TEST_SEALING_KEY, verified, waitForDelivery, type Receiver } from "./helpers/webhooks.ts";

let db: TestDatabase;
let api: TestServer;

serverForFile({ role: "api", webhookSecretKey: TEST_SEALING_KEY, webhookAllowPrivateNetworks: true }, (file) => ({ db, server: api } = file));

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

const tenant = (): Promise<TestKey> => createKey(db.pool, `t-${randomUUID().slice(0, 8)}`);

function workerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ROLE: "worker",
    DATABASE_URL: db.url,
    WEBHOOK_SECRET_KEY: TEST_SEALING_KEY,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    WEBHOOK_RETRY_BASE_SECONDS: "1",
    POLL_INTERVAL_SECONDS: "0.5",
    SUPERVISE_INTERVAL_SECONDS: "1",
    HEARTBEAT_SECONDS: "10",
    ...extra,
  };
}

it("a worker SIGKILLed right after a batch's final status commits: the event waits in the outbox and the next worker delivers it", { timeout: 120_000 }, async () => {
  const key = await tenant();
  const hook = await receiver();
  const { endpoint, secret } = await createEndpoint(api.url, key, { url: hook.url });
  const batch = await submitAs(api.url, key, { tasks: [{ kind: "echo", input: "last words" }] });
  // This worker reads the outbox only every 60 s: it finishes the batch, and is killed before it would.
  const doomed = await startProcess(workerEnv({ POLL_INTERVAL_SECONDS: "60" }));
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select status from batch where id = $1`, [batch.id]);
    return rows[0]?.status === "COMPLETED" ? true : undefined;
  }, 60_000);
  doomed.kill("SIGKILL");
  expect(await doomed.exited).toBeNull();

  // The status and its event committed together; nothing was sent.
  const { rows: events } = await db.pool.query(`select type, dispatched_at from webhook_event where batch_id = $1`, [batch.id]);
  expect(events).toEqual([{ type: "batch.completed", dispatched_at: null }]);
  expect(hook.requests).toEqual([]);

  const next = await startProcess(workerEnv());
  try {
    const [request] = await hook.received(1);
    expect(verified(secret, request!)).toMatchObject({ type: "batch.completed", data: { batch: { id: batch.id, status: "COMPLETED" } } });
    const delivery = await waitForDelivery(api.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
    expect(delivery.attempts).toBe(1);
    expect(hook.requests).toHaveLength(1);
  } finally {
    next.kill("SIGTERM");
    await next.exited;
  }
});

it("a worker SIGKILLed during an attempt: the attempt is made again after restart, with the same webhook-id", { timeout: 120_000 }, async () => {
  const key = await tenant();
  // The first request is left hanging (the worker dies waiting for it); the next ones get 200.
  const hook = await receiver((n) => (n === 1 ? { status: 200, hang: true } : { status: 200 }));
  const { endpoint, secret } = await createEndpoint(api.url, key, { url: hook.url });
  const doomed = await startProcess(workerEnv());
  const batch = await submitAs(api.url, key, { tasks: [{ kind: "echo", input: 1 }] });
  await hook.received(1);
  doomed.kill("SIGKILL");
  expect(await doomed.exited).toBeNull();

  // Move time instead of waiting out the attempt's expiry (60 s): its claim is long gone.
  await db.pool.query(`update pgboss.job set started_on = now() - interval '10 minutes' where name = 'webhook.delivery' and state = 'active'`);
  const next = await startProcess(workerEnv());
  try {
    const delivery = await waitForDelivery(api.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED", 60_000);
    expect(hook.requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hook.requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery.webhookId]));
    for (const request of hook.requests) expect(verified(secret, request).data.batch.id).toBe(batch.id);
  } finally {
    next.kill("SIGTERM");
    await next.exited;
  }
});

it("a delivery whose connections to PostgreSQL are cut between attempts still arrives", { timeout: 120_000 }, async () => {
  const key = await tenant();
  const hook = await receiver((n) => ({ status: n === 1 ? 500 : 200 }));
  const { endpoint } = await createEndpoint(api.url, key, { url: hook.url });
  const worker = await startProcess(workerEnv());
  try {
    const batch = await submitAs(api.url, key, { tasks: [{ kind: "echo", input: 1 }] });
    await waitForDelivery(api.url, key, endpoint.id, batch.id, (d) => d.attempts >= 1 && d.status === "PENDING");
    await db.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
    const delivered = await waitForDelivery(api.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED", 60_000);
    expect(delivered.attempts).toBe(2);
    expect(hook.requests).toHaveLength(2);
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
});
