// requestLimits.test.ts: no single request or connection can take the server down: bounded HTTP
// bodies (declared or chunked), WebSocket messages, operations per connection, connections per
// key, and the size of task inputs and metadata (named in the error; JSON stored as given).
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { SUBMIT, type BatchView } from "./helpers/batches.ts";
import { JOB_PROGRESS, watch, wsClient } from "./helpers/subscriptions.ts";
import {
  acknowledgedSocket,
  codes,
  createKey,
  keyedClient,
  post,
  rawSocket,
  runOperation,
  type TestKey,
} from "./helpers/auth.ts";

let db: TestDatabase;
let runningDb: TestDatabase;
/** Runs no tasks: its batches stay QUEUED, so their subscriptions stay open. */
let api: TestServer;
/** Runs tasks, for streams that move and finish. */
let running: TestServer;
let key: TestKey;
let runningKey: TestKey;

const MAX_REQUEST_BYTES = 64 * 1024;

beforeAll(async () => {
  db = await createTestDatabase();
  runningDb = await createTestDatabase();
  key = await createKey(db.pool, "acme");
  runningKey = await createKey(runningDb.pool, "acme");
  api = await startServer(db.url, {
    production: true,
    role: "api",
    maxRequestBytes: MAX_REQUEST_BYTES,
    maxSubscriptionsPerConnection: 2,
    maxConnectionsPerKey: 3,
    maxTaskInputBytes: 1_000,
    maxMetadataBytes: 200,
  });
  running = await startServer(runningDb.url, { production: true, workerConcurrency: 4 });
});

afterAll(async () => {
  await api?.stop();
  await running?.stop();
  await db?.drop();
  await runningDb?.drop();
});

async function submitQueued(): Promise<BatchView> {
  const result = await post<{ submitBatch: { batch: BatchView } }>(api.url, SUBMIT, {
    key: key.key,
    variables: { input: { tasks: [{ kind: "echo", input: 1 }] } },
  });
  return result.data!.submitBatch.batch;
}

/** A raw node:http POST; `chunks` are written with chunked transfer encoding unless a length is given. */
function rawPost(url: string, chunks: Buffer[], headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    void (async () => {
      for (const chunk of chunks) {
        if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

describe("request body size", () => {
  const big = JSON.stringify({ query: "{ taskKinds { name } }", variables: { pad: "x".repeat(MAX_REQUEST_BYTES) } });
  const small = JSON.stringify({ query: "{ taskKinds { name } }" });
  const headers = { "content-type": "application/json" };

  it("answers a body over MAX_REQUEST_BYTES with 413 from its content-length", async () => {
    const response = await rawPost(api.url, [Buffer.from(big)], { ...headers, authorization: `Bearer ${key.key}`, "content-length": String(Buffer.byteLength(big)) });
    expect(response.status).toBe(413);
    const body = JSON.parse(response.body) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe("PAYLOAD_TOO_LARGE");
    expect(body.errors[0]!.message).toContain("MAX_REQUEST_BYTES");
  });

  it("answers a chunked body that grows past MAX_REQUEST_BYTES with 413, and serves a small chunked one", async () => {
    const pieces = Array.from({ length: 8 }, (_, i) => Buffer.from(big.slice((i * big.length) / 8, ((i + 1) * big.length) / 8)));
    const response = await rawPost(api.url, pieces, { ...headers, authorization: `Bearer ${key.key}`, "transfer-encoding": "chunked" });
    expect(response.status).toBe(413);
    expect(response.body).toContain("PAYLOAD_TOO_LARGE");

    const fine = await rawPost(api.url, [Buffer.from(small.slice(0, 10)), Buffer.from(small.slice(10))], {
      ...headers,
      authorization: `Bearer ${key.key}`,
      "transfer-encoding": "chunked",
    });
    expect(fine.status).toBe(200);
    expect(JSON.parse(fine.body)).toMatchObject({ data: { taskKinds: expect.any(Array) } });
  });
});

describe("WebSocket limits", () => {
  it("refuses a 1 MiB WebSocket message by closing that socket (1009) without harming other clients", async () => {
    const batch = await post<{ submitBatch: { batch: BatchView } }>(running.url, SUBMIT, {
      key: runningKey.key,
      variables: { input: { tasks: Array.from({ length: 4 }, () => ({ kind: "sleep", input: { ms: 500 } })) } },
    });
    const batchId = batch.data!.submitBatch.batch.id;
    const bystander = keyedClient(running.wsUrl, runningKey.key);
    const watching = wsClient(running.wsUrl, { key: runningKey.key });
    try {
      const watcher = watch(watching, batchId);
      await watcher.firstEvent;

      const attacker = await acknowledgedSocket(running.wsUrl, runningKey.key);
      attacker.send({ id: "1", type: "subscribe", payload: { query: `{ taskKinds { name } }`, variables: { pad: "x".repeat(1024 * 1024) } } });
      expect((await attacker.closed).code).toBe(1009);

      await watcher.completed;
      expect(watcher.events.at(-1)!.batch.status).toBe("COMPLETED");
      const after = await runOperation(bystander, `{ taskKinds { name } }`);
      expect(after.completed).toBe(true);
      // And new connections are served.
      const fresh = await acknowledgedSocket(running.wsUrl, runningKey.key);
      fresh.socket.close();
    } finally {
      await bystander.dispose();
      await watching.dispose();
    }
  });

  it("answers an operation beyond MAX_SUBSCRIPTIONS_PER_CONNECTION with TOO_MANY_SUBSCRIPTIONS and keeps the others", async () => {
    const batch = await submitQueued();
    const raw = await acknowledgedSocket(api.wsUrl, key.key);
    try {
      for (const id of ["1", "2"]) raw.send({ id, type: "subscribe", payload: { query: JOB_PROGRESS, variables: { batchId: batch.id } } });
      await raw.next((m) => m.type === "next" && m.id === "1");
      await raw.next((m) => m.type === "next" && m.id === "2");
      raw.send({ id: "3", type: "subscribe", payload: { query: JOB_PROGRESS, variables: { batchId: batch.id } } });
      const refused = await raw.next((m) => m.id === "3");
      expect(refused.type).toBe("error");
      expect(JSON.stringify(refused.payload)).toContain("TOO_MANY_SUBSCRIPTIONS");
      expect(JSON.stringify(refused.payload)).toContain("MAX_SUBSCRIPTIONS_PER_CONNECTION");

      // Ending one makes room again.
      raw.send({ id: "1", type: "complete" });
      raw.send({ id: "4", type: "subscribe", payload: { query: JOB_PROGRESS, variables: { batchId: batch.id } } });
      expect((await raw.next((m) => m.id === "4")).type).toBe("next");
      expect(raw.socket.readyState).toBe(raw.socket.OPEN);
    } finally {
      raw.socket.close();
    }
  });

  it("closes a connection beyond MAX_CONNECTIONS_PER_KEY with 4429 TOO_MANY_SUBSCRIPTIONS, SSE streams included", async () => {
    const other = await createKey(db.pool, "acme");
    const batch = await submitQueued();
    const held = [await acknowledgedSocket(api.wsUrl, key.key), await acknowledgedSocket(api.wsUrl, key.key)];
    const sse = await fetch(api.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key.key}` },
      body: JSON.stringify({ query: JOB_PROGRESS, variables: { batchId: batch.id } }),
    });
    const reader = sse.body!.getReader();
    let streamed = "";
    while (!streamed.includes("event: next")) streamed += new TextDecoder().decode((await reader.read()).value);
    try {
      const fourth = rawSocket(api.wsUrl);
      await fourth.opened;
      fourth.send({ type: "connection_init", payload: { authorization: `Bearer ${key.key}` } });
      const closed = await fourth.closed;
      expect(closed.code).toBe(4429);
      expect(closed.reason).toContain("TOO_MANY_SUBSCRIPTIONS");

      // A fourth SSE stream is refused the same way.
      const extra = await fetch(api.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key.key}` },
        body: JSON.stringify({ query: JOB_PROGRESS, variables: { batchId: batch.id } }),
      });
      expect(await extra.text()).toContain("TOO_MANY_SUBSCRIPTIONS");

      // Other keys are not affected.
      const client = keyedClient(api.wsUrl, other.key);
      expect((await runOperation(client, `{ taskKinds { name } }`)).completed).toBe(true);
      await client.dispose();

      // Closing one frees a place.
      held.pop()!.socket.close();
      const replacement = await acknowledgedSocket(api.wsUrl, key.key);
      held.push(replacement);
    } finally {
      await reader.cancel();
      for (const socket of held) socket.socket.close();
    }
  });
});

it("gives an SSE stream's place back as soon as its client goes away", async () => {
  const other = await createKey(db.pool, "acme");
  const batch = await submitQueued();
  const open = async () => {
    const controller = new AbortController();
    const response = await fetch(api.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${other.key}` },
      body: JSON.stringify({ query: JOB_PROGRESS, variables: { batchId: batch.id } }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let streamed = "";
    while (!streamed.includes("event:")) streamed += new TextDecoder().decode((await reader.read()).value);
    return { streamed, close: () => controller.abort() };
  };
  const streams = [await open(), await open(), await open()];
  expect(streams.every((s) => s.streamed.includes("event: next"))).toBe(true);
  expect((await open()).streamed).toContain("TOO_MANY_SUBSCRIPTIONS");
  // The batch never changes, so only the client's leaving can free the places.
  for (const stream of streams) stream.close();
  const again = await waitFor(async () => {
    const attempt = await open();
    attempt.close();
    return attempt.streamed.includes("event: next") ? attempt : undefined;
  }, 10_000, "a freed place");
  expect(again.streamed).not.toContain("TOO_MANY_SUBSCRIPTIONS");
});

describe("input bounds", () => {
  it("refuses a task input over MAX_TASK_INPUT_BYTES, naming the task and the limit, and writes nothing", async () => {
    const result = await post(api.url, SUBMIT, {
      key: key.key,
      variables: { input: { tasks: [{ kind: "echo", input: "small" }, { kind: "echo", input: { text: "y".repeat(2_000) } }] } },
    });
    expect(codes(result)).toEqual(["BAD_USER_INPUT"]);
    const error = result.errors![0]!;
    expect(error.extensions!.taskErrors).toEqual([{ index: 1, message: expect.stringContaining("MAX_TASK_INPUT_BYTES allows 1000") }]);
    expect(error.message).toContain("task 1");
    const { rows } = await db.pool.query(`select count(*)::int as n from task where input::text like '%yyyy%'`);
    expect(rows[0].n).toBe(0);
  });

  it("refuses metadata over MAX_METADATA_BYTES and JSON nested past the depth limit, naming them", async () => {
    const metadata = await post(api.url, SUBMIT, {
      key: key.key,
      variables: { input: { metadata: { note: "m".repeat(500) }, tasks: [{ kind: "echo", input: 1 }] } },
    });
    expect(codes(metadata)).toEqual(["BAD_USER_INPUT"]);
    expect(metadata.errors![0]!.message).toContain("MAX_METADATA_BYTES");

    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const nested = await post(api.url, SUBMIT, { key: key.key, variables: { input: { tasks: [{ kind: "echo", input: deep }] } } });
    expect(codes(nested)).toEqual(["BAD_USER_INPUT"]);
    expect(JSON.stringify(nested.errors)).toContain("nests deeper than");
  });

  it("stores JSON inputs as given, never evaluated", async () => {
    const input = {
      __proto__: { polluted: true },
      constructor: { prototype: { polluted: true } },
      $where: "sleep(10000)",
      template: "${process.exit(1)}",
      sql: "'); drop table batch; --",
      nested: [{ toString: "not a function" }],
    };
    const raw = `{"query":${JSON.stringify(SUBMIT)},"variables":{"input":{"tasks":[{"kind":"echo","input":${JSON.stringify(input).replace('"nested"', '"__proto__":{"polluted":true},"nested"')}}]}}}`;
    const response = await fetch(api.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key.key}` },
      body: raw,
    });
    const body = (await response.json()) as { data: { submitBatch: { batch: BatchView } } };
    const id = body.data.submitBatch.batch.id;
    const read = await post<{ batch: { tasks: { edges: { node: { input: Record<string, unknown> } }[] } } }>(
      api.url,
      `query($id: ID!) { batch(id: $id) { tasks(first: 1) { edges { node { input } } } } }`,
      { key: key.key, variables: { id } },
    );
    const stored = read.data!.batch.tasks.edges[0]!.node.input;
    expect(stored.$where).toBe("sleep(10000)");
    expect(stored.template).toBe("${process.exit(1)}");
    expect(stored.sql).toBe("'); drop table batch; --");
    expect(stored.nested).toEqual([{ toString: "not a function" }]);
    expect(Object.prototype.hasOwnProperty.call(stored, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await db.pool.query(`select count(*)::int as n from batch`)).rows[0].n).toBeGreaterThan(0);
  });
});
