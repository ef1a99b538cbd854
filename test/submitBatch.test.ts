// submitBatch.test.ts: a batch is stored whole or not at all; idempotency keys replay or conflict.
import { describe, expect, it } from "vitest";
import type { TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { submit, submitOk, waitForFinal } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

// API only: these tests look at what submit writes, before any worker touches it.
serverForFile({ role: "api", maxTasksPerBatch: 5 }, (file) => ({ db, server } = file));

async function rowCounts() {
  const { rows } = await db.pool.query<{ batches: number; tasks: number; jobs: number }>(
    `select (select count(*)::int from batch) as batches,
            (select count(*)::int from task) as tasks,
            (select count(*)::int from pgboss.job where name like 'task.%') as jobs`,
  );
  return rows[0]!;
}

describe("submitBatch", () => {
  it("stores the batch, its tasks and one queued pg-boss job per task", async () => {
    const before = await rowCounts();
    const batch = await submitOk(server.url, {
      tasks: [
        { kind: "echo", input: { hello: "world" }, customId: "a" },
        { kind: "sleep", input: { ms: 10 }, customId: "b" },
        { kind: "sha256", input: { text: "x" } },
      ],
      priority: 3,
      metadata: { owner: "tests", tags: ["x"] },
    });
    expect(batch.status).toBe("QUEUED");
    expect(batch.counts).toEqual({ total: 3, queued: 3, running: 0, retrying: 0, succeeded: 0, failed: 0, canceled: 0, expired: 0 });
    expect(batch.priority).toBe(3);
    expect(batch.metadata).toEqual({ owner: "tests", tags: ["x"] });
    const after = await rowCounts();
    expect(after).toEqual({ batches: before.batches + 1, tasks: before.tasks + 3, jobs: before.jobs + 3 });

    const { rows: jobs } = await db.pool.query(
      `select j.id::text as id, j.name, j.state, j.priority, j.data from pgboss.job j join task t on t.id = j.id
       where t.batch_id = $1 order by t.index`,
      [batch.id],
    );
    expect(jobs.map((j) => [j.name, j.state, j.priority])).toEqual([
      ["task.echo", "created", 3_000_000],
      ["task.sleep", "created", 3_000_000],
      ["task.sha256", "created", 3_000_000],
    ]);
    expect(jobs[0].data).toEqual({ taskId: jobs[0].id, batchId: batch.id });
  });

  it("rejects the whole batch naming every bad task, and writes nothing", async () => {
    const before = await rowCounts();
    const response = await submit(server.url, {
      tasks: [
        { kind: "echo", input: 1, customId: "dup" },
        { kind: "no-such-kind", input: {} },
        { kind: "sleep", input: { ms: "soon" } },
        { kind: "echo", input: 2, customId: "dup" },
        { kind: "sha256", input: { text: "ok" } },
      ],
    });
    expect(response.data).toBeNull();
    const error = response.errors![0]!;
    expect(error.extensions?.code).toBe("BAD_USER_INPUT");
    const taskErrors = error.extensions?.taskErrors as { index: number; message: string }[];
    expect(taskErrors.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(taskErrors[0]!.message).toContain('unknown task kind "no-such-kind"');
    expect(taskErrors[1]!.message).toContain("ms");
    expect(taskErrors[2]!.message).toContain('customId "dup" duplicates task 0');
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses text PostgreSQL cannot store (NUL) with BAD_USER_INPUT naming the task, not a server error", async () => {
    const before = await rowCounts();
    const response = await submit(server.url, {
      tasks: [
        { kind: "echo", input: { text: "plain \\u0000 is fine" } },
        { kind: "echo", input: { text: "nul \u0000 here" } },
        { kind: "echo", input: 1, customId: "bad\u0000id" },
      ],
    });
    expect(response.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
    const taskErrors = response.errors![0]!.extensions?.taskErrors as { index: number; message: string }[];
    expect(taskErrors.map((e) => e.index)).toEqual([1, 2]);
    expect(taskErrors[0]!.message).toContain("NUL");
    expect(await rowCounts()).toEqual(before);
  });

  it("rejects an empty batch with BAD_USER_INPUT", async () => {
    const response = await submit(server.url, { tasks: [] });
    expect(response.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("rejects more than MAX_TASKS_PER_BATCH tasks with BATCH_TOO_LARGE", async () => {
    const before = await rowCounts();
    const tasks = Array.from({ length: 6 }, (_, i) => ({ kind: "echo", input: i }));
    const response = await submit(server.url, { tasks });
    expect(response.errors![0]!.extensions?.code).toBe("BATCH_TOO_LARGE");
    expect(response.errors![0]!.message).toContain("at most 5");
    expect(await rowCounts()).toEqual(before);
  });

  it("replays the same request under one idempotency key and refuses a different one", async () => {
    const input = { tasks: [{ kind: "echo", input: { n: 1 } }], idempotencyKey: "replay-1" };
    const first = await submitOk(server.url, input);
    const again = await submitOk(server.url, input);
    expect(again.id).toBe(first.id);

    const before = await rowCounts();
    const conflict = await submit(server.url, { ...input, tasks: [{ kind: "echo", input: { n: 2 } }] });
    expect(conflict.errors![0]!.extensions?.code).toBe("IDEMPOTENCY_CONFLICT");
    expect(await rowCounts()).toEqual(before);
  });

  it("creates one batch when two submits race with one idempotency key", async () => {
    const input = { tasks: Array.from({ length: 5 }, (_, i) => ({ kind: "echo", input: i })), idempotencyKey: "race-1" };
    const results = await Promise.all(Array.from({ length: 6 }, () => submitOk(server.url, input)));
    expect(new Set(results.map((b) => b.id)).size).toBe(1);
    const { rows } = await db.pool.query(`select count(*)::int as n from batch where idempotency_key = 'race-1'`);
    expect(rows[0].n).toBe(1);
    const { rows: tasks } = await db.pool.query(`select count(*)::int as n from task where batch_id = $1`, [results[0]!.id]);
    expect(tasks[0].n).toBe(5);
  });
});

describe("a worker joining later", () => {
  it("runs what the API queued to COMPLETED", async () => {
    const batch = await submitOk(server.url, { tasks: [{ kind: "echo", input: "late" }] });
    const worker = await startServer(db.url, { role: "worker" });
    try {
      const done = await waitForFinal(server.url, batch.id);
      expect(done.status).toBe("COMPLETED");
    } finally {
      await worker.stop();
    }
  });
});
