// tenants.test.ts: every batch belongs to the tenant that submitted it; another tenant's id
// behaves exactly like an unknown one (null / NOT_FOUND) for reads, mutations and subscriptions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { SUBMIT, type BatchView } from "./helpers/batches.ts";
import { JOB_PROGRESS, watch, wsClient } from "./helpers/subscriptions.ts";
import { codes, createKey, keyedClient, operationCodes, operationMessages, post, runOperation, type TestKey } from "./helpers/auth.ts";

let db: TestDatabase;
let server: TestServer;
let alice: TestKey;
let bob: TestKey;

const UNKNOWN = "00000000-0000-4000-8000-000000000000";
const BATCH = `query($id: ID!) { batch(id: $id) { id tasks(first: 10) { totalCount edges { node { id input } } } } }`;
const BATCHES = `{ batches(first: 50) { totalCount edges { node { id } } } }`;
const CANCEL = `mutation($id: ID!) { cancelBatch(id: $id) { batch { id status } } }`;
const RETRY = `mutation($id: ID!) { retryFailedTasks(batchId: $id) { batch { id status } } }`;

async function submitAs(key: TestKey, input: Record<string, unknown>): Promise<BatchView> {
  const result = await post<{ submitBatch: { batch: BatchView } }>(server.url, SUBMIT, { key: key.key, variables: { input } });
  if (!result.data?.submitBatch) throw new Error(JSON.stringify(result.errors));
  return result.data.submitBatch.batch;
}

/** An error message with the id taken out, to compare a foreign id's error with an unknown one's. */
const withoutId = (message: string | undefined, id: string) => message?.replace(id, "<id>");

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url, { production: true, workerConcurrency: 4 });
  alice = await createKey(db.pool, "alice");
  bob = await createKey(db.pool, "bob");
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe("tenant isolation", () => {
  it("stores a batch under the submitting key's tenant", async () => {
    const batch = await submitAs(alice, { tasks: [{ kind: "echo", input: 1 }] });
    const { rows } = await db.pool.query(`select owner from batch where id = $1`, [batch.id]);
    expect(rows[0].owner).toBe("alice");
  });

  it("gives another tenant null for the batch, as for an unknown id, and leaves it out of batches", async () => {
    const batch = await submitAs(alice, { tasks: [{ kind: "echo", input: { secret: "alice's" } }] });
    const own = await post<{ batch: { id: string } | null }>(server.url, BATCH, { key: alice.key, variables: { id: batch.id } });
    expect(own.data!.batch!.id).toBe(batch.id);

    const foreign = await post(server.url, BATCH, { key: bob.key, variables: { id: batch.id } });
    const unknown = await post(server.url, BATCH, { key: bob.key, variables: { id: UNKNOWN } });
    expect(foreign.status).toBe(200);
    expect(foreign.data).toEqual({ batch: null });
    expect(foreign.errors).toBeUndefined();
    expect(foreign.text).toBe(unknown.text);
    expect(foreign.text).not.toContain("alice's");

    const bobs = await post<{ batches: { totalCount: number; edges: { node: { id: string } }[] } }>(server.url, BATCHES, { key: bob.key });
    expect(bobs.data!.batches.edges.map((e) => e.node.id)).not.toContain(batch.id);
    expect(bobs.data!.batches.totalCount).toBe(0);
    const alices = await post<{ batches: { edges: { node: { id: string } }[] } }>(server.url, BATCHES, { key: alice.key });
    expect(alices.data!.batches.edges.map((e) => e.node.id)).toContain(batch.id);
  });

  it("answers another tenant's cancelBatch and retryFailedTasks with NOT_FOUND, as for an unknown id, and changes nothing", async () => {
    const batch = await submitAs(alice, { tasks: [{ kind: "sleep", input: { ms: 30_000 } }] });
    for (const mutation of [CANCEL, RETRY]) {
      const foreign = await post(server.url, mutation, { key: bob.key, variables: { id: batch.id } });
      const unknown = await post(server.url, mutation, { key: bob.key, variables: { id: UNKNOWN } });
      expect(codes(foreign)).toEqual(["NOT_FOUND"]);
      expect(codes(unknown)).toEqual(["NOT_FOUND"]);
      expect(withoutId(foreign.errors?.[0]?.message, batch.id)).toBe(withoutId(unknown.errors?.[0]?.message, UNKNOWN));
      expect(foreign.data ?? null).toBeNull();
    }
    const { rows } = await db.pool.query(`select status from batch where id = $1`, [batch.id]);
    expect(["QUEUED", "RUNNING"]).toContain(rows[0].status);
    // Its owner can cancel it.
    const canceled = await post<{ cancelBatch: { batch: { status: string } } }>(server.url, CANCEL, { key: alice.key, variables: { id: batch.id } });
    expect(["CANCELING", "CANCELED"]).toContain(canceled.data!.cancelBatch.batch.status);
  });

  it("refuses another tenant's jobProgress subscription with NOT_FOUND and sends it none of the batch's events", async () => {
    const batch = await submitAs(alice, { tasks: Array.from({ length: 6 }, () => ({ kind: "sleep", input: { ms: 300 } })) });
    const aliceWatching = wsClient(server.wsUrl, { key: alice.key });
    const bobClient = keyedClient(server.wsUrl, bob.key);
    try {
      const owner = watch(aliceWatching, batch.id);
      await owner.firstEvent;
      const intruder = await runOperation(bobClient, JOB_PROGRESS, { batchId: batch.id });
      const stranger = await runOperation(bobClient, JOB_PROGRESS, { batchId: UNKNOWN });
      // graphql-js answers a failed subscribe as one result with errors, then completes.
      expect(operationCodes(intruder)).toEqual(["NOT_FOUND"]);
      expect(intruder.results.every((r) => r.data == null)).toBe(true);
      expect(withoutId(operationMessages(intruder)[0], batch.id)).toBe(withoutId(operationMessages(stranger)[0], UNKNOWN));
      expect(JSON.stringify(intruder)).not.toContain('"status"');

      // Bob's connection keeps working, and still gets nothing of Alice's batch as it runs.
      await owner.completed;
      expect(owner.events.at(-1)!.batch.status).toBe("COMPLETED");
      const own = await runOperation(bobClient, BATCHES);
      expect(own.completed).toBe(true);
      expect(JSON.stringify(own.results)).not.toContain(batch.id);
    } finally {
      await aliceWatching.dispose();
      await bobClient.dispose();
    }
  });

  it("refuses another tenant's jobProgress over SSE with NOT_FOUND", async () => {
    const batch = await submitAs(alice, { tasks: [{ kind: "echo", input: 1 }] });
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${bob.key}` },
      body: JSON.stringify({ query: JOB_PROGRESS, variables: { batchId: batch.id } }),
    });
    const text = await response.text();
    expect(text).toContain("NOT_FOUND");
    expect(text).not.toContain('"status"');
  });

  it("keeps idempotency keys per tenant: the same key is no conflict across tenants and names no foreign batch", async () => {
    const input = { idempotencyKey: "nightly-42", tasks: [{ kind: "echo", input: "a" }] };
    const a = await submitAs(alice, input);
    const b = await post<{ submitBatch: { batch: BatchView } }>(server.url, SUBMIT, {
      key: bob.key,
      variables: { input: { ...input, tasks: [{ kind: "echo", input: "different" }] } },
    });
    expect(b.errors).toBeUndefined();
    expect(b.data!.submitBatch.batch.id).not.toBe(a.id);
    expect(b.text).not.toContain(a.id);
  });

  it("reaches tasks only through their batch", async () => {
    const schema = await post<{ __schema: { queryType: { fields: { name: string }[] } } }>(
      server.url,
      `{ __schema { queryType { fields { name } } } }`,
      { key: alice.key },
    );
    // Introspection is off in production; the printed schema says the same.
    expect(schema.errors?.length).toBeGreaterThan(0);
    const { schema: built } = await import("../src/graphql/schema.ts");
    expect(Object.keys(built.getQueryType()!.getFields()).sort()).toEqual(["batch", "batches", "taskKinds", "webhookDeliveries", "webhookEndpoints"]);
  });
});
