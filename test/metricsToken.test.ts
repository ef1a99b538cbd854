// metricsToken.test.ts: who may scrape GET /metrics. In production it needs
// `Authorization: Bearer $METRICS_TOKEN` and does not exist (404) while METRICS_TOKEN is unset;
// in development it is open unless a token is set, which is then asked for too.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { baseOf, family, scrape } from "./helpers/metrics.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const TOKEN = "metrics-token-0123456789abcdef";

let db: TestDatabase;
const servers: TestServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const server of servers) await server.stop();
  await db?.drop();
});

async function server(config: Parameters<typeof startServer>[1]): Promise<string> {
  const started = await startServer(db.url, config);
  servers.push(started);
  return baseOf(started.url);
}

it("is 404 in production while METRICS_TOKEN is unset, on the API and on a worker", async () => {
  for (const role of ["api", "worker"] as const) {
    const base = await server({ production: true, role });
    const scraped = await scrape(base);
    expect(scraped.status, role).toBe(404);
    expect(scraped.text).toBe("");
    expect((await scrape(base, "anything-at-all-0123")).status, role).toBe(404);
  }
});

it("asks for the bearer token in production when METRICS_TOKEN is set: 401 without it or with another, 200 with it", async () => {
  const base = await server({ production: true, metricsToken: TOKEN });
  const missing = await fetch(`${base}/metrics`);
  expect(missing.status).toBe(401);
  expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
  expect(await missing.text()).not.toContain("batchwire_");
  expect((await scrape(base, `${TOKEN}x`)).status).toBe(401);
  expect((await scrape(base, TOKEN.slice(0, -1))).status).toBe(401);
  const basic = await fetch(`${base}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` } });
  expect(basic.status).toBe(401);

  const scraped = await scrape(base, TOKEN);
  expect(scraped.status).toBe(200);
  expect(family(scraped, "batchwire_batches_submitted_total")).toBeDefined();
});

it("is open in development, and asks for the token there too once one is set", async () => {
  expect((await scrape(await server({ role: "api" }))).status).toBe(200);
  const guarded = await server({ role: "api", metricsToken: TOKEN });
  expect((await scrape(guarded)).status).toBe(401);
  expect((await scrape(guarded, TOKEN)).status).toBe(200);
});
