// webhookEndpoints.test.ts: a tenant manages its own webhook endpoints over GraphQL: the secret is
// shown once and stored sealed; URLs are https in production and no IP literal of a private range;
// another tenant's endpoint is NOT_FOUND, like an unknown one, and its cursors are refused. The
// server runs the API role only: nothing here is ever sent anywhere.
import { expect, it } from "vitest";
import { codes, createKey, post, type TestKey } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import {
  as,
  createEndpoint,
  CREATE_ENDPOINT,
  DELETE_ENDPOINT,
  DELIVERIES,
  ENDPOINTS,
  REDELIVER,
  ROTATE_SECRET,
  TEST_SEALING_KEY,
  UPDATE_ENDPOINT,
  type EndpointView,
} from "./helpers/webhooks.ts";

let db: TestDatabase;
let server: TestServer;
let alice: TestKey;
let bob: TestKey;

serverForFile({ role: "api", production: true, webhookSecretKey: TEST_SEALING_KEY }, async (file) => {
  ({ db, server } = file);
});

const UNKNOWN = "00000000-0000-4000-8000-000000000000";
// .invalid never resolves (RFC 2606); nothing is sent from this file anyway.
const HOOK = "https://receiver.example.invalid/hooks/batchwire";

async function keys(): Promise<void> {
  alice ??= await createKey(db.pool, "alice");
  bob ??= await createKey(db.pool, "bob");
}

type Connection = { webhookEndpoints: { totalCount: number; edges: { cursor: string; node: EndpointView }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };

it("creates an endpoint for all three events by default and shows its whsec_ secret once, storing only a sealed form", async () => {
  await keys();
  const { endpoint, secret } = await createEndpoint(server.url, alice, { url: HOOK, description: "nightly import" });
  expect(endpoint).toMatchObject({ url: HOOK, events: ["BATCH_COMPLETED", "BATCH_EXPIRED", "BATCH_CANCELED"], description: "nightly import", enabled: true, disabledReason: null });
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
  expect(Buffer.from(secret.slice("whsec_".length), "base64").length).toBeGreaterThanOrEqual(24);

  const { rows } = await db.pool.query(`select * from webhook_endpoint where id = $1`, [endpoint.id]);
  const stored = JSON.stringify(rows[0]);
  expect(stored).not.toContain(secret.slice("whsec_".length));
  expect(stored).not.toContain(Buffer.from(secret.slice("whsec_".length), "base64").toString("hex"));
  expect(rows[0].secret).toMatch(/^v1:[0-9a-f]{8}:/);
  // Reads never hand the secret out again.
  const listed = await post(server.url, ENDPOINTS, { key: alice.key });
  expect(listed.text).not.toContain(secret);
  expect(listed.text).not.toContain(rows[0].secret);
});

it("pages the caller's endpoints newest first with cursors that are the endpoints' ids, and only the caller's", async () => {
  await keys();
  const carol = await createKey(db.pool, "carol");
  const made: string[] = [];
  for (let i = 0; i < 3; i++) made.push((await createEndpoint(server.url, carol, { url: `${HOOK}/${i}` })).endpoint.id);
  const bobs = await createEndpoint(server.url, bob, { url: HOOK });

  const first = (await as<Connection>(server.url, carol, ENDPOINTS, { first: 2 })).webhookEndpoints;
  expect(first.totalCount).toBe(3);
  expect(first.edges.map((e) => e.node.id)).toEqual([made[2], made[1]]);
  expect(first.pageInfo).toMatchObject({ hasNextPage: true, endCursor: made[1] });
  const next = (await as<Connection>(server.url, carol, ENDPOINTS, { first: 2, after: first.pageInfo.endCursor })).webhookEndpoints;
  expect(next.edges.map((e) => e.node.id)).toEqual([made[0]]);
  expect(next.pageInfo.hasNextPage).toBe(false);

  // Another tenant's endpoint id is no cursor for carol; neither is anything else.
  for (const after of [bobs.endpoint.id, UNKNOWN, "bogus", "MTIz"]) {
    const refused = await post(server.url, ENDPOINTS, { key: carol.key, variables: { first: 2, after } });
    expect(codes(refused)).toEqual(["BAD_USER_INPUT"]);
    expect(refused.errors![0]!.message).toBe("after is not a cursor this API returned");
  }
});

it("updates url, events, description and enabled; leaves out what is not given", async () => {
  await keys();
  const { endpoint } = await createEndpoint(server.url, alice, { url: HOOK, description: "before" });
  const changed = await as<{ updateWebhookEndpoint: { endpoint: EndpointView } }>(server.url, alice, UPDATE_ENDPOINT, {
    input: { id: endpoint.id, url: "https://other.example.invalid/x?tenant=a", events: ["BATCH_CANCELED", "BATCH_EXPIRED"], enabled: false },
  });
  expect(changed.updateWebhookEndpoint.endpoint).toMatchObject({
    url: "https://other.example.invalid/x?tenant=a",
    events: ["BATCH_EXPIRED", "BATCH_CANCELED"],
    enabled: false,
    description: "before",
  });
  const cleared = await as<{ updateWebhookEndpoint: { endpoint: EndpointView } }>(server.url, alice, UPDATE_ENDPOINT, {
    input: { id: endpoint.id, description: null, enabled: true },
  });
  expect(cleared.updateWebhookEndpoint.endpoint).toMatchObject({ description: null, enabled: true, events: ["BATCH_EXPIRED", "BATCH_CANCELED"] });
  const empty = await post(server.url, UPDATE_ENDPOINT, { key: alice.key, variables: { input: { id: endpoint.id, events: [] } } });
  expect(codes(empty)).toEqual(["BAD_USER_INPUT"]);
});

it("rotates the secret: a new one is shown, and the previous one signs beside it for 24 hours", async () => {
  await keys();
  const { endpoint, secret } = await createEndpoint(server.url, alice, { url: HOOK });
  const { rows: before } = await db.pool.query(`select secret from webhook_endpoint where id = $1`, [endpoint.id]);
  const rotated = await as<{ rotateWebhookEndpointSecret: { secret: string; endpoint: EndpointView } }>(server.url, alice, ROTATE_SECRET, { id: endpoint.id });
  const { secret: next, endpoint: after } = rotated.rotateWebhookEndpointSecret;
  expect(next).toMatch(/^whsec_/);
  expect(next).not.toBe(secret);
  expect(Date.parse(after.previousSecretExpiresAt!) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
  const { rows } = await db.pool.query(`select secret, previous_secret from webhook_endpoint where id = $1`, [endpoint.id]);
  expect(rows[0].previous_secret).toBe(before[0].secret);
  expect(rows[0].secret).not.toBe(before[0].secret);
});

it("refuses URLs that are not https in production, not URLs, or IP literals of private and special ranges, with BAD_USER_INPUT", async () => {
  await keys();
  const refused: [string, RegExp][] = [
    ["http://receiver.example.invalid/hook", /must be https in production/],
    ["ftp://receiver.example.invalid/hook", /must be https/],
    ["receiver.example.invalid/hook", /not an absolute URL/],
    ["https://user:password@receiver.example.invalid/", /user name or password/],
    ["https://127.0.0.1/hook", /127\.0\.0\.1 is a loopback address/],
    ["https://127.8.9.10:8443/hook", /loopback/],
    ["https://[::1]/hook", /::1 is a loopback address/],
    ["https://10.0.0.7/hook", /private address \(RFC 1918\)/],
    ["https://172.16.4.2/hook", /private/],
    ["https://192.168.1.20/hook", /private/],
    ["https://169.254.169.254/latest/meta-data", /link-local/],
    ["https://100.64.0.1/hook", /carrier-grade NAT/],
    ["https://[fd12:3456::1]/hook", /unique-local/],
    ["https://[fe80::1]/hook", /link-local/],
    ["https://[::ffff:127.0.0.1]/hook", /loopback address \(IPv4 127\.0\.0\.1 inside IPv6\)/],
    ["https://[::ffff:10.1.2.3]/hook", /private address .*10\.1\.2\.3/],
    ["https://0.0.0.0/hook", /unspecified/],
    ["https://[::]/hook", /unspecified/],
    ["https://0x7f.1/hook", /loopback/], // the URL parser reads it as 127.0.0.1
    [`https://receiver.example.invalid/${"a".repeat(2_100)}`, /longer than 2048/],
  ];
  for (const [url, message] of refused) {
    const result = await post(server.url, CREATE_ENDPOINT, { key: alice.key, variables: { input: { url } } });
    expect(codes(result), url).toEqual(["BAD_USER_INPUT"]);
    expect(result.errors![0]!.message, url).toMatch(message);
  }
  const { rows } = await db.pool.query(`select count(*)::int as n from webhook_endpoint where url like '%127.%' or url like 'http:%' or url like '%[%'`);
  expect(rows[0].n).toBe(0);
  // A public address is fine.
  const { endpoint } = await createEndpoint(server.url, alice, { url: "https://203.0.114.9/hook" });
  expect(endpoint.url).toBe("https://203.0.114.9/hook");
  const noEvents = await post(server.url, CREATE_ENDPOINT, { key: alice.key, variables: { input: { url: HOOK, events: [] } } });
  expect(codes(noEvents)).toEqual(["BAD_USER_INPUT"]);
});

it("answers another tenant's endpoint and delivery ids with NOT_FOUND, exactly as unknown ones, and changes nothing", async () => {
  await keys();
  const { endpoint } = await createEndpoint(server.url, alice, { url: HOOK, description: "alice's" });
  const attempts: [string, (id: string) => Record<string, unknown>][] = [
    [UPDATE_ENDPOINT, (id) => ({ input: { id, enabled: false, url: "https://bob.example.invalid/" } })],
    [ROTATE_SECRET, (id) => ({ id })],
    [DELETE_ENDPOINT, (id) => ({ id })],
    [DELIVERIES, (id) => ({ endpointId: id })],
    [REDELIVER, (id) => ({ id })],
  ];
  for (const [operation, variables] of attempts) {
    const foreign = await post(server.url, operation, { key: bob.key, variables: variables(endpoint.id) });
    const unknown = await post(server.url, operation, { key: bob.key, variables: variables(UNKNOWN) });
    expect(codes(foreign)).toEqual(["NOT_FOUND"]);
    expect(codes(unknown)).toEqual(["NOT_FOUND"]);
    expect(foreign.errors![0]!.message.replace(endpoint.id, "<id>")).toBe(unknown.errors![0]!.message.replace(UNKNOWN, "<id>"));
    expect(foreign.text).not.toContain("alice's");
  }
  const bobs = (await as<Connection>(server.url, bob, ENDPOINTS)).webhookEndpoints;
  expect(bobs.edges.map((e) => e.node.id)).not.toContain(endpoint.id);
  const { rows } = await db.pool.query(`select url, enabled from webhook_endpoint where id = $1`, [endpoint.id]);
  expect(rows[0]).toEqual({ url: HOOK, enabled: true });
});

it("deletes an endpoint with its deliveries; a second delete is NOT_FOUND", async () => {
  await keys();
  const { endpoint } = await createEndpoint(server.url, alice, { url: HOOK });
  const deleted = await as<{ deleteWebhookEndpoint: { deletedEndpointId: string } }>(server.url, alice, DELETE_ENDPOINT, { id: endpoint.id });
  expect(deleted.deleteWebhookEndpoint.deletedEndpointId).toBe(endpoint.id);
  const again = await post(server.url, DELETE_ENDPOINT, { key: alice.key, variables: { id: endpoint.id } });
  expect(codes(again)).toEqual(["NOT_FOUND"]);
  const listed = (await as<Connection>(server.url, alice, ENDPOINTS, { first: 100 })).webhookEndpoints;
  expect(listed.edges.map((e) => e.node.id)).not.toContain(endpoint.id);
});
