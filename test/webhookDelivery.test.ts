// webhookDelivery.test.ts: batch events reach real receivers on 127.0.0.1, signed per Standard
// Webhooks and verified here with the standardwebhooks package: one delivery per final status and
// endpoint, retried with the same webhook-id until a 2xx, FAILED when the attempts run out, and
// the endpoint disabled after 3 days of nothing but failures. Each test is a tenant of its own.
import { randomUUID } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createKey, post, type TestKey } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { BATCH_FIELDS, type BatchView } from "./helpers/batches.ts";
import {
  as,
  createEndpoint,
  deliveriesOf,
  REDELIVER,
  ROTATE_SECRET,
  startReceiver,
  submitAs,
  TEST_SEALING_KEY,
  UPDATE_ENDPOINT,
  verified,
  waitForDelivery,
  type DeliveryView,
  type Receiver,
} from "./helpers/webhooks.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile(
  {
    workerConcurrency: 4,
    maintenanceIntervalSeconds: 1,
    webhookSecretKey: TEST_SEALING_KEY,
    webhookAllowPrivateNetworks: true, // the receivers are on 127.0.0.1
    webhookRetryBaseSeconds: 1,
  },
  (file) => ({ db, server } = file),
);

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

const tenant = () => createKey(db.pool, `t-${randomUUID().slice(0, 8)}`);

async function batchOf(key: TestKey, id: string): Promise<BatchView> {
  return (await as<{ batch: BatchView }>(server.url, key, `query($id: ID!) { batch(id: $id) { ${BATCH_FIELDS} } }`, { id })).batch;
}

async function eventsOf(batchId: string): Promise<{ type: string }[]> {
  return (await db.pool.query(`select type from webhook_event where batch_id = $1 order by created_at`, [batchId])).rows;
}

it("a completed batch gives one delivery, verified with standardwebhooks, that carries the batch", async () => {
  const key = await tenant();
  const hook = await receiver();
  const { endpoint, secret } = await createEndpoint(server.url, key, { url: hook.url });
  const batch = await submitAs(server.url, key, {
    tasks: [{ kind: "echo", input: 1 }, { kind: "echo", input: 2 }, { kind: "fail", input: { times: 5 } }],
    metadata: { nightly: "2024-05-01" },
  });
  const delivery = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
  const [request] = hook.requests;
  expect(hook.requests).toHaveLength(1);
  expect(request!.method).toBe("POST");
  expect(request!.path).toBe("/hook");
  expect(request!.headers["content-type"]).toBe("application/json");

  const body = verified(secret, request!);
  const done = await batchOf(key, batch.id);
  expect(body).toEqual({
    type: "batch.completed",
    timestamp: done.finishedAt,
    data: {
      batch: {
        id: batch.id,
        status: "COMPLETED",
        counts: { total: 3, queued: 0, running: 0, retrying: 0, succeeded: 2, failed: 1, canceled: 0, expired: 0 },
        metadata: { nightly: "2024-05-01" },
        createdAt: done.createdAt,
        finishedAt: done.finishedAt,
        resultsUrl: `/batches/${batch.id}/results.jsonl`,
      },
    },
  });
  expect(request!.headers["webhook-id"]).toBe(delivery.webhookId);
  expect(request!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  // A signature made with another secret does not pass, so the check above means something.
  expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(request!.body, request!.headers)).toThrow();

  expect(delivery).toMatchObject({
    eventType: "BATCH_COMPLETED",
    batchId: batch.id,
    status: "SUCCEEDED",
    attempts: 1,
    lastResponseStatus: 200,
    lastResponseBody: "ok",
    lastError: null,
    nextAttemptAt: null,
  });
  expect(await eventsOf(batch.id)).toEqual([{ type: "batch.completed" }]);
});

it("a receiver answering 500, 500, then 200 gets the event on the third attempt, with one webhook-id throughout", async () => {
  const key = await tenant();
  const bulky = "x".repeat(5_000);
  const hook = await receiver((n) => (n < 3 ? { status: 500, body: bulky } : { status: 200 }));
  const { endpoint, secret } = await createEndpoint(server.url, key, { url: hook.url });
  const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: "once" }] });

  // Between attempts, the delivery shows the failure and when it tries again.
  const pending = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "PENDING" && d.attempts >= 1);
  expect(pending).toMatchObject({ lastResponseStatus: 500, lastError: "HTTP 500" });
  expect(pending.lastResponseBody).toBe("x".repeat(1_024)); // the first 1 KiB, no more
  expect(Date.parse(pending.nextAttemptAt!)).toBeGreaterThan(Date.parse(pending.lastAttemptAt!));

  const delivered = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
  expect(delivered).toMatchObject({ attempts: 3, lastResponseStatus: 200, lastError: null, nextAttemptAt: null });
  expect(hook.requests).toHaveLength(3);
  const ids = new Set(hook.requests.map((r) => r.headers["webhook-id"]));
  expect([...ids]).toEqual([delivered.webhookId]);
  // Each attempt is signed afresh (its own timestamp) and verifies; the body is the same every time.
  const bodies = hook.requests.map((r) => verified(secret, r));
  expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
  expect(bodies[0]!.type).toBe("batch.completed");
  // A success ends the endpoint's failure streak.
  const { rows } = await db.pool.query(`select failing_since from webhook_endpoint where id = $1`, [endpoint.id]);
  expect(rows[0].failing_since).toBeNull();
});

it("a receiver that is down, then comes up, gets the event on a later attempt", async () => {
  const key = await tenant();
  const probe = await startReceiver();
  const { port } = probe;
  await probe.close(); // nothing listens on this port now
  const { endpoint, secret } = await createEndpoint(server.url, key, { url: `http://127.0.0.1:${port}/hook` });
  const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
  const refused = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.attempts >= 1);
  expect(refused.status).toBe("PENDING");
  expect(refused.lastError).toContain("ECONNREFUSED");
  expect(refused.lastResponseStatus).toBeNull();

  const hook = await receiver(undefined, { port });
  const delivered = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
  expect(delivered.attempts).toBeGreaterThanOrEqual(2);
  expect(hook.requests).toHaveLength(1);
  expect(verified(secret, hook.requests[0]!).data.batch.id).toBe(batch.id);
});

it("a canceled batch sends batch.canceled and an expired one batch.expired, to the endpoints subscribed to them", async () => {
  const key = await tenant();
  const all = await receiver();
  const cancelsOnly = await receiver();
  const paused = await receiver();
  const everything = await createEndpoint(server.url, key, { url: all.url });
  const onlyCanceled = await createEndpoint(server.url, key, { url: cancelsOnly.url, events: ["BATCH_CANCELED"] });
  expect(onlyCanceled.endpoint.events).toEqual(["BATCH_CANCELED"]);
  const off = await createEndpoint(server.url, key, { url: paused.url });
  await as(server.url, key, UPDATE_ENDPOINT, { input: { id: off.endpoint.id, enabled: false } });

  const canceled = await submitAs(server.url, key, { tasks: [{ kind: "sleep", input: { ms: 60_000 } }] });
  await as(server.url, key, `mutation($id: ID!) { cancelBatch(id: $id) { batch { id } } }`, { id: canceled.id });
  // Four slots, eight tasks of 2.5 s, a window of 1 s: the last four never start in time.
  const expired = await submitAs(server.url, key, {
    tasks: Array.from({ length: 8 }, () => ({ kind: "sleep", input: { ms: 2_500 } })),
    completionWindowSeconds: 1,
  });
  const completed = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });

  const requests = await all.received(3);
  const bodies = requests.map((r) => verified(everything.secret, r));
  const byBatch = new Map(bodies.map((b) => [b.data.batch.id, b]));
  expect(byBatch.get(canceled.id)).toMatchObject({ type: "batch.canceled", data: { batch: { status: "CANCELED" } } });
  expect(byBatch.get(expired.id)).toMatchObject({ type: "batch.expired", data: { batch: { status: "EXPIRED" } } });
  expect(byBatch.get(expired.id)!.data.batch.counts.expired).toBeGreaterThan(0);
  expect(byBatch.get(completed.id)).toMatchObject({ type: "batch.completed" });

  await cancelsOnly.received(1);
  expect(verified(onlyCanceled.secret, cancelsOnly.requests[0]!).data.batch.id).toBe(canceled.id);
  // Every event has been dispatched by now: none waits for the endpoints left out.
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select count(*)::int as n from webhook_event where batch_id = any($1) and dispatched_at is null`, [
      [canceled.id, expired.id, completed.id],
    ]);
    return rows[0].n === 0 ? true : undefined;
  });
  expect(cancelsOnly.requests).toHaveLength(1);
  expect(paused.requests).toHaveLength(0);
  expect(await deliveriesOf(server.url, key, off.endpoint.id)).toEqual([]);
  expect(all.requests).toHaveLength(3);
});

it("a tenant's endpoint never receives another tenant's events", async () => {
  const alice = await tenant();
  const bob = await tenant();
  const aliceHook = await receiver();
  const bobHook = await receiver();
  const alices = await createEndpoint(server.url, alice, { url: aliceHook.url });
  const bobs = await createEndpoint(server.url, bob, { url: bobHook.url });
  const batch = await submitAs(server.url, alice, { tasks: [{ kind: "echo", input: "alice's" }] });
  await waitForDelivery(server.url, alice, alices.endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select dispatched_at from webhook_event where batch_id = $1`, [batch.id]);
    return rows[0]?.dispatched_at ? true : undefined;
  });
  expect(aliceHook.requests).toHaveLength(1);
  expect(bobHook.requests).toHaveLength(0);
  expect(await deliveriesOf(server.url, bob, bobs.endpoint.id)).toEqual([]);
  // Bob cannot read Alice's deliveries, nor queue one of them again.
  const [aliceDelivery] = await deliveriesOf(server.url, alice, alices.endpoint.id);
  const foreignList = await post(server.url, `query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }`, {
    key: bob.key,
    variables: { id: alices.endpoint.id },
  });
  expect(foreignList.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const foreignRedeliver = await post(server.url, REDELIVER, { key: bob.key, variables: { id: aliceDelivery!.id } });
  expect(foreignRedeliver.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  expect(aliceHook.requests).toHaveLength(1);
});

it("after a rotation, the old and the new secret each verify the same delivery; once the overlap ends, only the new one", async () => {
  const key = await tenant();
  const hook = await receiver();
  const { endpoint, secret: oldSecret } = await createEndpoint(server.url, key, { url: hook.url });
  const rotated = await as<{ rotateWebhookEndpointSecret: { secret: string; endpoint: { previousSecretExpiresAt: string } } }>(
    server.url,
    key,
    ROTATE_SECRET,
    { id: endpoint.id },
  );
  const newSecret = rotated.rotateWebhookEndpointSecret.secret;
  expect(newSecret).not.toBe(oldSecret);
  const overlapEnds = Date.parse(rotated.rotateWebhookEndpointSecret.endpoint.previousSecretExpiresAt);
  expect(Math.abs(overlapEnds - Date.now() - 24 * 3600_000)).toBeLessThan(60_000);

  const first = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
  const [during] = await hook.received(1);
  expect(during!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
  expect(verified(oldSecret, during!).data.batch.id).toBe(first.id);
  expect(verified(newSecret, during!).data.batch.id).toBe(first.id);

  // Move the end of the overlap into the past instead of waiting a day.
  await db.pool.query(`update webhook_endpoint set previous_secret_expires_at = now() - interval '1 second' where id = $1`, [endpoint.id]);
  const second = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 2 }] });
  const [, after] = await hook.received(2);
  expect(verified(newSecret, after!).data.batch.id).toBe(second.id);
  expect(() => verified(oldSecret, after!)).toThrow();
});

it("redeliverWebhook sends a delivered event again, with the same webhook-id", async () => {
  const key = await tenant();
  const hook = await receiver();
  const { endpoint, secret } = await createEndpoint(server.url, key, { url: hook.url });
  const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
  const delivered = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
  const again = await as<{ redeliverWebhook: { delivery: DeliveryView } }>(server.url, key, REDELIVER, { id: delivered.id });
  expect(again.redeliverWebhook.delivery).toMatchObject({ id: delivered.id, status: "PENDING" });
  await hook.received(2);
  const twice = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED" && d.attempts === 2);
  expect(twice.webhookId).toBe(delivered.webhookId);
  expect(hook.requests.map((r) => r.headers["webhook-id"])).toEqual([delivered.webhookId, delivered.webhookId]);
  expect(verified(secret, hook.requests[1]!).data.batch.id).toBe(batch.id);
});

it("a delivery whose attempts run out is FAILED; its job followed the documented schedule", async () => {
  const key = await tenant();
  const hook = await receiver(() => ({ status: 503 }));
  const { endpoint } = await createEndpoint(server.url, key, { url: hook.url });
  const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
  const pending = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "PENDING" && d.attempts >= 1);
  const { rows: jobs } = await db.pool.query(
    `select j.retry_limit, j.retry_delay, j.retry_backoff, j.retry_delay_max from pgboss.job j join webhook_delivery d on d.job_id = j.id where d.id = $1`,
    [pending.id],
  );
  expect(jobs[0]).toEqual({ retry_limit: 16, retry_delay: 1, retry_backoff: true, retry_delay_max: 1_440 });
  // Move time instead of waiting out 16 retries: the job has used them all, and is due now.
  await waitFor(async () => {
    const { rowCount } = await db.pool.query(
      `update pgboss.job set retry_count = retry_limit, start_after = now()
       where id = (select job_id from webhook_delivery where id = $1) and state = 'retry'`,
      [pending.id],
    );
    return rowCount ? true : undefined;
  });
  const failed = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "FAILED");
  expect(failed).toMatchObject({ lastResponseStatus: 503, lastError: "HTTP 503", nextAttemptAt: null });
  const attempts = hook.requests.length;
  expect(failed.attempts).toBe(attempts);
  // Nothing more comes: the job is over.
  const { rows } = await db.pool.query(`select j.state from pgboss.job j join webhook_delivery d on d.job_id = j.id where d.id = $1`, [failed.id]);
  expect(rows[0].state).toBe("failed");
});

it("an endpoint that has failed every attempt for 3 days is disabled, says why, and gets nothing more", async () => {
  const key = await tenant();
  const hook = await receiver(() => ({ status: 500 }));
  const { endpoint } = await createEndpoint(server.url, key, { url: hook.url });
  // Three days of failures, moved into the past instead of waited for.
  await db.pool.query(`update webhook_endpoint set failing_since = now() - interval '3 days 1 minute' where id = $1`, [endpoint.id]);
  const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
  const last = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.attempts >= 1);
  expect(last.lastError).toBe("HTTP 500");
  const { webhookEndpoints } = await as<{ webhookEndpoints: { edges: { node: { id: string; enabled: boolean; disabledReason: string } }[] } }>(
    server.url,
    key,
    `{ webhookEndpoints { edges { node { id enabled disabledReason } } } }`,
  );
  const disabled = webhookEndpoints.edges[0]!.node;
  expect(disabled.enabled).toBe(false);
  expect(disabled.disabledReason).toMatch(/^every delivery attempt failed for 3 days \(since .+ UTC\); the last one: HTTP 500$/);

  // Its pending delivery ends FAILED at its next attempt, without being sent.
  await db.pool.query(`update pgboss.job set start_after = now() where id = (select job_id from webhook_delivery where id = $1) and state = 'retry'`, [last.id]);
  const failed = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "FAILED");
  expect(failed.lastError).toBe(`the endpoint is disabled: ${disabled.disabledReason}`);
  expect(failed.attempts).toBe(1);
  // A later batch gets no delivery to it at all.
  const later = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 2 }] });
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select dispatched_at from webhook_event where batch_id = $1`, [later.id]);
    return rows[0]?.dispatched_at ? true : undefined;
  });
  expect((await deliveriesOf(server.url, key, endpoint.id)).map((d) => d.batchId)).toEqual([batch.id]);
  expect(hook.requests).toHaveLength(1);
});
