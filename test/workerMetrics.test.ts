// workerMetrics.test.ts: /metrics on the processes that run work: a worker-only process (no
// GraphQL server) answers it with the task slots it offers per kind and its pools, and webhook
// delivery attempts are counted by outcome, after real deliveries to a receiver on 127.0.0.1.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createKey } from "./helpers/auth.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { baseOf, family, scrape, value } from "./helpers/metrics.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { createEndpoint, startReceiver, submitAs, TEST_SEALING_KEY, waitForDelivery } from "./helpers/webhooks.ts";

let db: TestDatabase;
const servers: TestServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const server of servers) await server.stop();
  await db?.drop();
});

async function server(config: Parameters<typeof startServer>[1]): Promise<TestServer> {
  const started = await startServer(db.url, config);
  servers.push(started);
  return started;
}

it("a worker-only process serves /metrics with the slots it offers per task kind and its connection pools", async () => {
  const worker = await server({ role: "worker", workerConcurrency: 3 });
  const base = `http://127.0.0.1:${worker.app.port}`;
  expect((await fetch(`${base}/graphql`, { method: "POST" })).status).toBe(404); // no GraphQL here
  const scraped = await scrape(base);
  expect(scraped.status).toBe(200);
  for (const kind of ["echo", "sleep", "fail", "sha256"]) expect(value(scraped, "batchwire_worker_slots", { kind }), kind).toBe(3);
  expect(value(scraped, "batchwire_db_pool_max_connections", { pool: "batchwire" })).toBe(5);
  expect(value(scraped, "batchwire_db_pool_max_connections", { pool: "pgboss" })).toBe(5);
  expect(family(scraped, "batchwire_tasks")!.metrics.length).toBe(4 * 3);
  // Stopped here: the next test's deliveries must not be taken by this worker.
  await worker.stop();

});

it("counts webhook delivery attempts by outcome: a 500 that is retried, then the 2xx that succeeds", async () => {
  const app = await server({ workerConcurrency: 4, webhookSecretKey: TEST_SEALING_KEY, webhookAllowPrivateNetworks: true, webhookRetryBaseSeconds: 1 });
  const base = baseOf(app.url);
  const receiver = await startReceiver((n) => ({ status: n === 1 ? 500 : 200 }));
  try {
    const key = await createKey(db.pool, "webhook-metrics");
    const { endpoint } = await createEndpoint(app.url, key, { url: receiver.url });
    const batch = await submitAs(app.url, key, { tasks: [{ kind: "echo", input: 1 }] });
    await waitForDelivery(app.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");

    const scraped = await waitFor(async () => {
      const s = await scrape(base);
      return value(s, "batchwire_webhook_deliveries_total", { outcome: "succeeded" }) === 1 ? s : undefined;
    }, 10_000, "the successful attempt to be counted");
    expect(value(scraped, "batchwire_webhook_deliveries_total", { outcome: "retrying" })).toBe(1);
    expect(value(scraped, "batchwire_webhook_deliveries_total", { outcome: "failed" })).toBeUndefined();
    expect(receiver.requests).toHaveLength(2);
  } finally {
    await receiver.close();
  }
});
