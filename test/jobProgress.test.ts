// jobProgress.test.ts: live progress over graphql-ws: snapshot first, newer snapshots, the final
// one, then completion; across processes and under many subscribers.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { startProcess } from "./helpers/process.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";
import { expectMonotonic, watch, wsClient } from "./helpers/subscriptions.ts";
import { keyedClient } from "./helpers/auth.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({ workerConcurrency: 4 }, (file) => ({ db, server } = file));

const sleepTasks = (n: number, ms: number) => Array.from({ length: n }, (_, i) => ({ kind: "sleep", input: { ms }, customId: `s${i}` }));

describe("jobProgress", () => {
  it("sends the current snapshot first, newer ones as the batch moves, the final one, then completes", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(8, 1_000) });
    const client = wsClient(server.wsUrl);
    try {
      const watcher = watch(client, batch.id);
      await watcher.completed;
      const { events } = watcher;
      expect(events[0]!.batch.id).toBe(batch.id);
      expect(events[0]!.batch.version).toBeGreaterThanOrEqual(batch.version);
      expect(events[0]!.changedTasks).toEqual([]);
      expect(events.length).toBeGreaterThan(2);
      const last = events.at(-1)!;
      expect(last.batch.status).toBe("COMPLETED");
      expect(last.batch.counts).toMatchObject({ total: 8, succeeded: 8 });
      expect(last.batch.finishedAt).not.toBeNull();
      expect(events.slice(0, -1).every((e) => e.batch.status !== "COMPLETED")).toBe(true);
      expectMonotonic(events);

      // Every task's change reached this subscriber: each one is seen SUCCEEDED, and ctx.progress
      // values between 0 and 1 came through on the way.
      const changes = events.flatMap((e) => e.changedTasks);
      expect(events.some((e) => e.changedTasksTruncated)).toBe(false);
      expect(new Set(changes.filter((t) => t.status === "SUCCEEDED").map((t) => t.index)).size).toBe(8);
      expect(changes.some((t) => t.status === "RUNNING" && t.progress !== null && t.progress > 0 && t.progress < 1)).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it("yields one event and completes for a batch that has already finished", async () => {
    const batch = await submitOk(server.url, { tasks: [{ kind: "echo", input: 1 }] });
    const done = await waitForFinal(server.url, batch.id);
    const client = wsClient(server.wsUrl);
    try {
      const watcher = watch(client, batch.id);
      await watcher.completed;
      expect(watcher.events).toHaveLength(1);
      // The event's selection is the client's lean one: every field of it equals the final batch's.
      expect(done).toMatchObject(watcher.events[0]!.batch);
    } finally {
      await client.dispose();
    }
  });

  it("runs each subscriber's own selection and variables when several watch one batch", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(6, 200) });
    const other = await submitOk(server.url, { tasks: sleepTasks(2, 100) });
    const client = wsClient(server.wsUrl);
    const raw = keyedClient(server.wsUrl, undefined);
    type Result = { data?: { jobProgress: Record<string, unknown> }; errors?: { extensions?: { code?: string } }[] };
    const collect = (query: string, variables: Record<string, unknown>) => {
      const results: Result[] = [];
      const done = new Promise<void>((resolve, reject) => {
        raw.subscribe({ query, variables }, { next: (result) => void results.push(result as Result), error: reject, complete: resolve });
      });
      return { results, done };
    };
    try {
      const full = watch(client, batch.id);
      const slim = collect(`subscription Slim($id: ID!) { jobProgress(batchId: $id) { batch { id status } } }`, { id: batch.id });
      const elsewhere = collect(`subscription Slim($id: ID!) { jobProgress(batchId: $id) { batch { id status } } }`, { id: other.id });
      const missing = collect(`subscription Slim($id: ID!) { jobProgress(batchId: $id) { batch { id } } }`, {});
      await Promise.all([full.completed, slim.done, elsewhere.done, missing.done]);
      expect(full.events.at(-1)!.batch.counts.succeeded).toBe(6);
      expect(slim.results.at(-1)).toEqual({ data: { jobProgress: { batch: { id: batch.id, status: "COMPLETED" } } } });
      expect(slim.results.every((r) => Object.keys(r.data!.jobProgress).join() === "batch")).toBe(true);
      expect(elsewhere.results.at(-1)).toEqual({ data: { jobProgress: { batch: { id: other.id, status: "COMPLETED" } } } });
      expect(missing.results).toHaveLength(1);
      expect(missing.results[0]!.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    } finally {
      await client.dispose();
      await raw.dispose();
    }
  });

  it("answers an unknown batch id with NOT_FOUND", async () => {
    const client = wsClient(server.wsUrl);
    try {
      for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
        const watcher = watch(client, id);
        const error = await watcher.completed.then(
          () => undefined,
          (e: { errors?: { extensions?: { code?: string } }[] }) => e,
        );
        expect(error?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
        expect(watcher.events).toHaveLength(0);
      }
    } finally {
      await client.dispose();
    }
  });

  it("gives a subscriber that joins mid-batch the current state first, then every task that finishes after it", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(16, 250) });
    const client = wsClient(server.wsUrl);
    try {
      // One subscriber from the start, one that joins midway: both share the batch's events.
      const early = watch(client, batch.id);
      await early.firstEvent;
      const midway = await waitFor(async () => {
        const now = (await getBatch(server.url, batch.id))!;
        return now.counts.succeeded >= 4 && now.status === "RUNNING" ? now : undefined;
      });
      const late = watch(client, batch.id);
      const first = await late.firstEvent;
      expect(first.batch.version).toBeGreaterThanOrEqual(midway.version);
      expect(first.batch.counts.succeeded).toBeGreaterThanOrEqual(midway.counts.succeeded);
      await Promise.all([early.completed, late.completed]);
      for (const watcher of [early, late]) {
        expect(watcher.events.at(-1)!.batch.status).toBe("COMPLETED");
        expectMonotonic(watcher.events);
        // A client keeping a table of tasks from changedTasks ends with every task that finished
        // after its first event, and no other.
        expect(watcher.events.some((e) => e.changedTasksTruncated)).toBe(false);
        const succeeded = new Set(watcher.events.flatMap((e) => e.changedTasks.filter((t) => t.status === "SUCCEEDED").map((t) => t.index)));
        expect(succeeded.size).toBe(16 - watcher.events[0]!.batch.counts.succeeded);
      }
    } finally {
      await client.dispose();
    }
  });

  it("delivers the final event to 200 concurrent subscribers of one batch", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(8, 200) });
    const clients = Array.from({ length: 20 }, () => wsClient(server.wsUrl));
    try {
      const watchers = clients.flatMap((client) => Array.from({ length: 10 }, () => watch(client, batch.id)));
      await Promise.all(watchers.map((w) => w.completed));
      for (const watcher of watchers) {
        expect(watcher.events.at(-1)!.batch.status).toBe("COMPLETED");
        expect(watcher.events.at(-1)!.batch.counts.succeeded).toBe(8);
        expectMonotonic(watcher.events);
      }
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it("a client that disconnects and subscribes again sees the final state", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(8, 300) });
    const first = wsClient(server.wsUrl);
    const watcher = watch(first, batch.id);
    await watcher.firstEvent;
    await first.dispose();
    await waitForFinal(server.url, batch.id);

    const second = wsClient(server.wsUrl);
    try {
      const again = watch(second, batch.id);
      await again.completed;
      expect(again.events).toHaveLength(1);
      expect(again.events[0]!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 8 } });
    } finally {
      await second.dispose();
    }
  });

  it("keeps streaming when the LISTEN connection is killed mid-batch", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(12, 300) });
    const client = wsClient(server.wsUrl);
    try {
      const watcher = watch(client, batch.id);
      await watcher.firstEvent;
      const killed = await db.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'batchwire-listen'`,
      );
      expect(killed.rowCount).toBe(1);
      // The hub reconnects by itself: a new LISTEN session appears.
      await waitFor(async () => {
        const { rows } = await db.pool.query(
          `select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'batchwire-listen'`,
        );
        return rows[0].n === 1 ? true : undefined;
      });
      await watcher.completed;
      expect(watcher.events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 12 } });
      expectMonotonic(watcher.events);
    } finally {
      await client.dispose();
    }
  });

  it("publishes one small NOTIFY per touched batch per flush, never one per task", async () => {
    // Its own database and server, so the kinds run at their own batch size (echo: 200 a fetch).
    const notifyDb = await createTestDatabase();
    const notifyServer = await startServer(notifyDb.url);
    const listener = new pg.Client({ connectionString: notifyDb.url });
    await listener.connect();
    const payloads: string[] = [];
    listener.on("notification", (message) => {
      if (message.channel === "batchwire_batch_changed") payloads.push(message.payload ?? "");
    });
    await listener.query("listen batchwire_batch_changed");
    try {
      const batch = await submitOk(notifyServer.url, { tasks: Array.from({ length: 1_000 }, (_, i) => ({ kind: "echo", input: { i } })) });
      const done = await waitForFinal(notifyServer.url, batch.id);
      await waitFor(() => (payloads.some((p) => JSON.parse(p).v === done.version) ? true : undefined));
      const mine = payloads.filter((p) => JSON.parse(p).b === batch.id);
      // One at submit (version 0), one per change of the batch's version, and each flush moves up
      // to 200 tasks at once: a start and an outcome flush per fetch is 10 for 1,000 tasks; allow
      // for short fetches.
      expect(mine.map((p) => JSON.parse(p).v)).toEqual(Array.from({ length: done.version + 1 }, (_, v) => v));
      expect(mine.length).toBeLessThanOrEqual(50);
      expect(Math.max(...mine.map((p) => Buffer.byteLength(p)))).toBeLessThan(200);
    } finally {
      await listener.end();
      await notifyServer.stop();
      await notifyDb.drop();
    }
  });
});

describe("jobProgress across processes", () => {
  it("a subscriber on an api process sees a worker process's progress through to the final event", async () => {
    const apiDb = await createTestDatabase();
    const api = await startServer(apiDb.url, { role: "api" });
    const worker = await startProcess({ ROLE: "worker", DATABASE_URL: apiDb.url, WORKER_CONCURRENCY: "3" });
    const client = wsClient(api.wsUrl);
    try {
      const batch = await submitOk(api.url, { tasks: sleepTasks(9, 200) });
      const watcher = watch(client, batch.id);
      await watcher.completed;
      expect(watcher.events.length).toBeGreaterThan(2);
      expect(watcher.events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 9 } });
      expectMonotonic(watcher.events);
    } finally {
      await client.dispose();
      worker.kill("SIGTERM");
      await worker.exited;
      await api.stop();
      await apiDb.drop();
    }
  });
});

describe("SSE", () => {
  it("serves the same subscription over yoga's SSE transport", async () => {
    const batch = await submitOk(server.url, { tasks: sleepTasks(2, 100) });
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: `subscription($id: ID!) { jobProgress(batchId: $id) { batch { status } } }`, variables: { id: batch.id } }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text(); // the stream ends after the final event
    const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]);
    expect(statuses.at(-1)).toBe("COMPLETED");
  });
});
