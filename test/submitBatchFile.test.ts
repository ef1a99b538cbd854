// submitBatchFile.test.ts: a JSONL file of tasks is stored whole or not at all: every bad line
// named by its line and index, submitBatch's limits, CSRF and keys as for any request.
import { describe, expect, it } from "vitest";
import { BatchwireError, createClient } from "../src/client/index.ts";
import { SubmitBatchFileDocument } from "../src/client/generated.ts";
import { print } from "graphql";
import { createKey } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

const jsonl = (...lines: unknown[]) => new Blob([lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")]);

async function counts(db: TestDatabase): Promise<{ batches: number; tasks: number; jobs: number }> {
  const { rows } = await db.pool.query(
    `select (select count(*)::int from batch) as batches, (select count(*)::int from task) as tasks,
            (select count(*)::int from pgboss.job where name like 'task.%') as jobs`,
  );
  return rows[0];
}

async function refusal(promise: Promise<unknown>): Promise<BatchwireError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(error instanceof BatchwireError)) throw new Error(`expected a BatchwireError, got ${String(error)}`);
  return error;
}

describe("submitBatchFile", () => {
  let db: TestDatabase;
  let server: TestServer;
  // Small limits, so that a test file can pass each of them.
  serverForFile({ role: "api", maxTasksPerBatch: 6, maxTaskInputBytes: 1_000, maxRequestBytes: 256 * 1024 }, (file) => ({ db, server } = file));

  it("stores the file's tasks in line order: blank lines skipped, the default kind where a line names none", async () => {
    const client = createClient({ url: server.url });
    const file = new Blob([
      "\uFEFF" + JSON.stringify({ customId: "a", input: { n: 1 } }) + "\r\n",
      "\n   \n",
      JSON.stringify({ kind: "sleep", input: { ms: 1 }, customId: "b" }) + "\n",
      JSON.stringify({ input: "três" }), // no newline at the end
    ]);
    const batch = await client.submit({ file, kind: "echo", priority: 3, metadata: { from: "file" } });
    expect(batch).toMatchObject({ status: "QUEUED", priority: 3, metadata: { from: "file" }, counts: { total: 3, queued: 3 } });
    const { rows } = await db.pool.query(`select index, custom_id, kind, input from task where batch_id = $1 order by index`, [batch.id]);
    expect(rows).toEqual([
      { index: 0, custom_id: "a", kind: "echo", input: { n: 1 } },
      { index: 1, custom_id: "b", kind: "sleep", input: { ms: 1 } },
      { index: 2, custom_id: null, kind: "echo", input: "três" },
    ]);
    const jobs = await db.pool.query(`select count(*)::int as n from pgboss.job where data->>'batchId' = $1`, [batch.id]);
    expect(jobs.rows[0].n).toBe(3);
  });

  it("refuses a file with bad lines, naming every one by its line and task index, and writes nothing", async () => {
    const before = await counts(db);
    const client = createClient({ url: server.url });
    const file = jsonl(
      { kind: "echo", input: 1, customId: "x" }, // line 1: fine
      "{ not json", // 2
      "", // 3: blank, skipped
      "[1, 2]", // 4
      { kind: "echo", input: 1, custom_id: "y" }, // 5
      { kind: "echo" }, // 6
      { input: 1 }, // 7: no kind, and no default
    );
    const error = await refusal(client.submit({ file }));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.message).toMatch(/^5 invalid task\(s\); first: line 2 \(task 1\): invalid JSON/);
    expect(error.taskErrors).toEqual([
      { index: 1, line: 2, message: expect.stringContaining("invalid JSON") },
      { index: 2, line: 4, message: expect.stringContaining("must be a JSON object") },
      { index: 3, line: 5, message: expect.stringContaining('unknown field "custom_id"') },
      { index: 4, line: 6, message: 'no "input"' },
      { index: 5, line: 7, message: expect.stringContaining('no "kind"') },
    ]);
    expect(error.taskErrorsTruncated).toBe(false);
    expect(await counts(db)).toEqual(before);
  });

  it("checks each line's task as submitBatch checks a task: kind, input, size, customId", async () => {
    const before = await counts(db);
    const client = createClient({ url: server.url });
    const file = jsonl(
      { kind: "nope", input: 1 },
      { kind: "sleep", input: { ms: -1 } },
      { kind: "echo", input: "x".repeat(1_200) },
      { kind: "echo", input: 1, customId: "same" },
      { kind: "echo", input: 2, customId: "same" },
    );
    const error = await refusal(client.submit({ file }));
    expect(error.taskErrors).toEqual([
      { index: 0, line: 1, message: 'unknown task kind "nope"' },
      { index: 1, line: 2, message: expect.stringContaining('invalid input for kind "sleep"') },
      { index: 2, line: 3, message: expect.stringContaining("MAX_TASK_INPUT_BYTES allows 1000") },
      { index: 4, line: 5, message: 'customId "same" duplicates task 3' },
    ]);
    // A line far longer than any input may be is refused without being held.
    const long = await refusal(client.submit({ file: jsonl({ kind: "echo", input: "y".repeat(70_000) }) }));
    expect(long.taskErrors).toEqual([{ index: 0, line: 1, message: expect.stringMatching(/^the line is 700\d\d bytes long; at most \d+ are read$/) }]);
    expect(await counts(db)).toEqual(before);
  });

  it("applies submitBatch's limits: tasks per batch, request size; an empty file is no batch", async () => {
    const before = await counts(db);
    const client = createClient({ url: server.url });
    const seven = jsonl(...Array.from({ length: 7 }, (_, i) => ({ kind: "echo", input: i })));
    const tooMany = await refusal(client.submit({ file: seven }));
    expect(tooMany.code).toBe("BATCH_TOO_LARGE");
    expect(tooMany.errors[0]!.extensions).toMatchObject({ maxTasksPerBatch: 6 });

    const huge = await refusal(client.submit({ file: new Blob(["x".repeat(300 * 1024)]) }));
    expect(huge.status).toBe(413);
    expect(huge.code).toBe("PAYLOAD_TOO_LARGE");

    const empty = await refusal(client.submit({ file: new Blob(["\n\n"]) }));
    expect(empty.code).toBe("BAD_USER_INPUT");
    expect(empty.message).toBe("a batch needs at least one task");
    const unknownDefault = await refusal(client.submit({ file: jsonl({ input: 1 }), kind: "resize" }));
    expect(unknownDefault.message).toContain('unknown task kind "resize"');
    expect(await counts(db)).toEqual(before);
  });

  it("replays a file under the same idempotency key", async () => {
    const client = createClient({ url: server.url });
    const file = jsonl({ kind: "echo", input: "once" });
    const first = await client.submit({ file, idempotencyKey: "file-1" });
    const again = await client.submit({ file, idempotencyKey: "file-1" });
    expect(again.id).toBe(first.id);
    const conflict = await refusal(client.submit({ file: jsonl({ kind: "echo", input: "twice" }), idempotencyKey: "file-1" }));
    expect(conflict.code).toBe("IDEMPOTENCY_CONFLICT");
  });

  it("refuses a multipart post without a CSRF header (HTTP 403), as any form post", async () => {
    const before = await counts(db);
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: print(SubmitBatchFileDocument), variables: { input: { file: null, kind: "echo" } } }));
    form.set("map", JSON.stringify({ file: ["variables.input.file"] }));
    form.set("file", jsonl({ input: 1 }), "tasks.jsonl");
    const response = await fetch(server.url, { method: "POST", body: form });
    expect(response.status).toBe(403);
    await response.body?.cancel();
    expect(await counts(db)).toEqual(before);
  });
});

describe("submitBatchFile with API keys", () => {
  let db: TestDatabase;
  let server: TestServer;
  serverForFile({ role: "api", production: true }, (file) => ({ db, server } = file));

  it("refuses an upload without a valid key (401) and stores one with a key for its tenant", async () => {
    const file = jsonl({ kind: "echo", input: 1 });
    const refused = await refusal(createClient({ url: server.url }).submit({ file }));
    expect(refused.status).toBe(401);
    expect(refused.code).toBe("UNAUTHENTICATED");
    const bogus = await refusal(createClient({ url: server.url, key: `bw_${"A".repeat(43)}` }).submit({ file }));
    expect(bogus.code).toBe("UNAUTHENTICATED");
    expect((await db.pool.query(`select count(*)::int as n from batch`)).rows[0].n).toBe(0);

    const key = await createKey(db.pool, "acme");
    const batch = await createClient({ url: server.url, key: key.key }).submit({ file });
    const { rows } = await db.pool.query(`select owner from batch where id = $1`, [batch.id]);
    expect(rows).toEqual([{ owner: "acme" }]);
  });
});
