// wsProtocol.test.ts: graphql-ws protocol abuse gets the protocol's close codes, on that socket
// alone: no connection_init in time (4408), subscribe before the ack (4401), a duplicate
// operation id (4409), a second connection_init (4429), a malformed message (4400), a wrong
// subprotocol (4406). A bad operation closes nothing.
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { captureLog, type LogCapture } from "./helpers/logCapture.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { JOB_PROGRESS } from "./helpers/subscriptions.ts";
import { SUBMIT, type BatchView } from "./helpers/batches.ts";
import { acknowledgedSocket, createKey, post, rawSocket, type TestKey } from "./helpers/auth.ts";

let db: TestDatabase;
let server: TestServer;
let key: TestKey;
/** What the server writes to its log. */
let log: LogCapture;

const INIT_TIMEOUT_MS = 500;

beforeAll(async () => {
  db = await createTestDatabase();
  log = captureLog("debug");
  server = await startServer(db.url, { production: true, role: "api", wsInitTimeoutMs: INIT_TIMEOUT_MS }, [], log.logger);
  key = await createKey(db.pool, "acme");
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

const init = { type: "connection_init", payload: {} as Record<string, unknown> };
const keyed = () => ({ ...init, payload: { authorization: `Bearer ${key.key}` } });

describe("graphql-ws protocol abuse", () => {
  it("closes a socket that sends no connection_init within the timeout with 4408", async () => {
    const raw = rawSocket(server.wsUrl);
    await raw.opened;
    const started = Date.now();
    const closed = await raw.closed;
    expect(closed.code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
    expect(raw.messages).toEqual([]);
  });

  it("bounds the key check in connection_init by the same timeout (4408) when the database stalls", async () => {
    const locker = await db.pool.connect();
    try {
      await locker.query("begin");
      await locker.query("lock table api_key in access exclusive mode");
      const raw = rawSocket(server.wsUrl);
      await raw.opened;
      raw.send(keyed());
      const started = Date.now();
      const closed = await raw.closed;
      expect(closed.code).toBe(4408);
      expect(Date.now() - started).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
      expect(raw.messages).toEqual([]);
    } finally {
      await locker.query("rollback");
      locker.release();
    }
    // Once the database answers again, the same key connects.
    (await acknowledgedSocket(server.wsUrl, key.key)).socket.close();
  });

  it("closes a socket that subscribes before its connection is acknowledged with 4401", async () => {
    const raw = rawSocket(server.wsUrl);
    await raw.opened;
    raw.send({ id: "1", type: "subscribe", payload: { query: "{ taskKinds { name } }" } });
    expect((await raw.closed).code).toBe(4401);
    expect(raw.messages).toEqual([]);
  });

  it("closes a socket that reuses a running operation's id with 4409", async () => {
    const batch = (await post<{ submitBatch: { batch: BatchView } }>(server.url, SUBMIT, { key: key.key, variables: { input: { tasks: [{ kind: "echo", input: 1 }] } } }))
      .data!.submitBatch.batch;
    const raw = await acknowledgedSocket(server.wsUrl, key.key);
    const subscribe = { id: "same", type: "subscribe", payload: { query: JOB_PROGRESS, variables: { batchId: batch.id } } };
    raw.send(subscribe);
    await raw.next((m) => m.type === "next");
    raw.send(subscribe);
    const closed = await raw.closed;
    expect(closed.code).toBe(4409);
    expect(closed.reason).toContain("same");
  });

  it("closes a socket that sends connection_init twice with 4429", async () => {
    const raw = await acknowledgedSocket(server.wsUrl, key.key);
    raw.send(keyed());
    expect((await raw.closed).code).toBe(4429);
  });

  it("closes a socket that sends a malformed message with 4400", async () => {
    for (const message of ["not json", JSON.stringify({ type: "subscribe", id: 1 }), JSON.stringify({ type: "nonsense" })]) {
      const raw = await acknowledgedSocket(server.wsUrl, key.key);
      raw.send(message);
      expect((await raw.closed).code, message).toBe(4400);
    }
  });

  it("refuses a socket without the graphql-transport-ws subprotocol with 4406", async () => {
    // Offering only another subprotocol fails the handshake itself (the ws client refuses a
    // server that picks none); offering none gets a socket that graphql-ws closes.
    const other = new WebSocket(server.wsUrl, "graphql-ws");
    other.on("error", () => undefined);
    await new Promise((resolve) => other.once("close", resolve));
    expect(other.protocol).toBe("");

    const socket = new WebSocket(server.wsUrl);
    socket.on("error", () => undefined);
    const code = await new Promise<number>((resolve) => socket.once("close", (c) => resolve(c)));
    expect(code).toBe(4406);
  });

  it("answers a bad operation on the socket with an error message and keeps the socket open", async () => {
    const raw = await acknowledgedSocket(server.wsUrl, key.key);
    raw.send({ id: "1", type: "subscribe", payload: { query: "{ nope" } });
    const error = await raw.next((m) => m.id === "1");
    expect(error.type).toBe("error");
    expect(JSON.stringify(error.payload)).toContain("Syntax Error");
    raw.send({ id: "2", type: "subscribe", payload: { query: "{ taskKinds { name } }" } });
    expect((await raw.next((m) => m.id === "2")).type).toBe("next");
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close();
  });
});

describe("messages a client may not send", () => {
  // Server-to-client types, types of the older subscriptions-transport-ws protocol, and made-up ones.
  const types = ["next", "error", "connection_ack", "Next", "CONNECTION_INIT", "start", "data", "stop", "connection_terminate", "ka", "", "__proto__"];
  const message = (type: string) => ({ type, id: "1", payload: { data: { x: 1 } } });

  it("close the socket with 4400, before connection_init as after the acknowledgement, and never with a stack trace", async () => {
    const consoleError = vi.spyOn(console, "error");
    const consoleWarn = vi.spyOn(console, "warn");
    try {
      for (const type of types) {
        const early = rawSocket(server.wsUrl);
        await early.opened;
        early.send(message(type));
        expect((await early.closed).code, `${type} before connection_init`).toBe(4400);

        const late = await acknowledgedSocket(server.wsUrl, key.key);
        late.send(message(type));
        expect((await late.closed).code, `${type} after the ack`).toBe(4400);
      }
      expect(consoleError).not.toHaveBeenCalled();
      expect(consoleWarn).not.toHaveBeenCalled();
      expect(log.withStacks()).toEqual([]);
    } finally {
      consoleError.mockRestore();
      consoleWarn.mockRestore();
    }
  });

  it("cannot flood the log: 50 sockets sending them write a bounded number of lines", async () => {
    const before = log.lines.length;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const raw = rawSocket(server.wsUrl);
        await raw.opened;
        raw.send(message(types[i % types.length]!));
        expect((await raw.closed).code).toBe(4400);
      }),
    );
    const written = log.lines.slice(before);
    // At most the client-caused lines one interval lets through (20), not one or more per socket.
    expect(written.length).toBeLessThanOrEqual(21);
    expect(log.withStacks()).toEqual([]);
  });
});
