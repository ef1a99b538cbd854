// batchUpdates.test.ts: the tenant-wide feed over a real graphql-ws socket: batches submitted
// through another API process appear (created, progress, final), coalesced per batch; the status
// filter; another tenant's batches never appear; a revoked key ends the feed.
import type { Client } from "graphql-ws";
import { describe, expect, it } from "vitest";
import { createKey, keyedClient, post, revokeKey } from "./helpers/auth.ts";
import { BATCH_FIELDS, submitOk, type BatchView } from "./helpers/batches.ts";
import { createTestDatabase } from "./helpers/database.ts";
import { startProcess } from "./helpers/process.ts";
import { startServer, waitFor } from "./helpers/server.ts";

const BATCH_UPDATES = `subscription Updates($status: BatchStatus) { batchUpdates(status: $status) { batch { ${BATCH_FIELDS} } } }`;

interface Feed {
  batches: BatchView[];
  errors: unknown[];
  closed: Promise<unknown>;
  of(id: string): BatchView[];
  stop(): void;
}

function subscribeUpdates(client: Client, status?: string): Feed {
  const batches: BatchView[] = [];
  const errors: unknown[] = [];
  let stop!: () => void;
  const closed = new Promise((resolve) => {
    stop = client.subscribe<{ batchUpdates: { batch: BatchView } }>(
      { query: BATCH_UPDATES, variables: status ? { status } : {} },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) batches.push(result.data.batchUpdates.batch);
        },
        error: (error) => resolve(error),
        complete: () => resolve("complete"),
      },
    );
  });
  return { batches, errors, closed, of: (id) => batches.filter((b) => b.id === id), stop };
}

const sleeps = (n: number, ms: number) => Array.from({ length: n }, (_, i) => ({ kind: "sleep", input: { ms }, customId: `s${i}` }));

describe("batchUpdates", () => {
  it("shows batches submitted through another API process: created, moving, final; coalesced per batch", async () => {
    const db = await createTestDatabase();
    // One event a second at most per batch, so that coalescing is plain to see.
    const api = await startServer(db.url, { role: "api", eventIntervalMs: 1_000 });
    const otherApi = await startProcess({ ROLE: "api", DATABASE_URL: db.url });
    const client = keyedClient(api.wsUrl, undefined);
    let worker: Awaited<ReturnType<typeof startProcess>> | undefined;
    try {
      const all = subscribeUpdates(client);
      const completedOnly = subscribeUpdates(client, "COMPLETED");
      // The subscription is running once a batch submitted now shows up.
      const probe = await submitOk(otherApi.url, { tasks: [{ kind: "echo", input: 0 }] });
      await waitFor(() => (all.of(probe.id).length > 0 ? true : undefined), 30_000, "the probe batch's event");

      // No worker runs yet: the new batch can only be announced by its submit.
      // Three rounds of 1.5 s at concurrency 2 span several 1 s event slots, so at least one event
      // falls between two rounds (progress strictly between 0 and 1) however the slots align.
      const batch = await submitOk(otherApi.url, { tasks: sleeps(6, 1_500) });
      const created = await waitFor(() => all.of(batch.id)[0], 30_000, "the created event");
      expect(created).toMatchObject({ id: batch.id, status: "QUEUED", version: 0, counts: { total: 6, queued: 6 } });

      worker = await startProcess({ ROLE: "worker", DATABASE_URL: db.url, WORKER_CONCURRENCY: "2" });
      await waitFor(() => (all.of(batch.id).at(-1)?.status === "COMPLETED" ? true : undefined), 60_000, "the final event");
      const events = all.of(batch.id);
      expect(events.at(-1)).toMatchObject({ status: "COMPLETED", progress: 1, counts: { succeeded: 6 } });
      expect(events.some((e) => e.status === "RUNNING" && e.progress > 0 && e.progress < 1)).toBe(true);
      for (let i = 1; i < events.length; i++) expect(events[i]!.version).toBeGreaterThan(events[i - 1]!.version);
      // Task starts, ctx.progress reports and outcomes moved the version far more often than
      // events came: states in between were merged.
      expect(events.length).toBeLessThan(events.at(-1)!.version);

      // The filtered subscriber saw both batches complete, and nothing else.
      await waitFor(() => (completedOnly.of(batch.id).length === 1 ? true : undefined), 30_000, "the filtered final event");
      expect(completedOnly.batches.every((b) => b.status === "COMPLETED")).toBe(true);
      expect(new Set(completedOnly.batches.map((b) => b.id))).toEqual(new Set([probe.id, batch.id]));
      expect(all.errors).toEqual([]);
    } finally {
      await client.dispose();
      worker?.kill("SIGTERM");
      otherApi.kill("SIGTERM");
      await Promise.all([worker?.exited, otherApi.exited]);
      await api.stop();
      await db.drop();
    }
  });

  it("never shows another tenant's batches, and ends with the key's revocation", async () => {
    const db = await createTestDatabase();
    const acme = await createKey(db.pool, "acme");
    const globex = await createKey(db.pool, "globex");
    const server = await startServer(db.url, { authRecheckMs: 200 });
    const client = keyedClient(server.wsUrl, acme.key);
    const submitAs = async (key: string, tasks: unknown[]) => {
      const result = await post<{ submitBatch: { batch: { id: string } } }>(
        server.url,
        `mutation($input: SubmitBatchInput!) { submitBatch(input: $input) { batch { id } } }`,
        { key, variables: { input: { tasks } } },
      );
      return result.data!.submitBatch.batch.id;
    };
    try {
      const feed = subscribeUpdates(client);
      const mine = await submitAs(acme.key, sleeps(2, 100));
      await waitFor(() => (feed.of(mine).at(-1)?.status === "COMPLETED" ? true : undefined), 30_000, "acme's batch to complete");

      const theirs = await submitAs(globex.key, sleeps(2, 100));
      const after = await submitAs(acme.key, [{ kind: "echo", input: 1 }]);
      await waitFor(async () => {
        const { data } = await post<{ batch: { status: string } }>(server.url, `query($id: ID!) { batch(id: $id) { status } }`, {
          key: globex.key,
          variables: { id: theirs },
        });
        return data?.batch.status === "COMPLETED" ? true : undefined;
      }, 30_000, "globex's batch to complete");
      await waitFor(() => (feed.of(after).at(-1)?.status === "COMPLETED" ? true : undefined), 30_000, "acme's second batch");
      expect(feed.of(theirs)).toEqual([]);
      expect(new Set(feed.batches.map((b) => b.id))).toEqual(new Set([mine, after]));

      await revokeKey(db.pool, acme);
      const closed = (await feed.closed) as { code?: number };
      expect(closed.code).toBe(4403);
    } finally {
      await client.dispose();
      await server.stop();
      await db.drop();
    }
  });
});
