// graphqlSse.test.ts: the real `graphql-sse` client, in its distinct-connections mode and in its
// single-connection mode, against /graphql/stream with API keys: subscriptions stream to the final
// event; a missing or revoked key is refused; a reserved stream counts against its key's
// connections, ends when the key is revoked, and is dropped when never opened.
import { createClient, type Client, type ExecutionResult } from "graphql-sse";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { SUBMIT, type BatchView } from "./helpers/batches.ts";
import { createKey, post, revokeKey, type TestKey } from "./helpers/auth.ts";

let db: TestDatabase;
let server: TestServer;
let key: TestKey;
let streamUrl: string;

const MAX_CONNECTIONS_PER_KEY = 2;

beforeAll(async () => {
  db = await createTestDatabase();
  key = await createKey(db.pool, "acme");
  server = await startServer(db.url, {
    production: true,
    workerConcurrency: 4,
    maxConnectionsPerKey: MAX_CONNECTIONS_PER_KEY,
    authRecheckMs: 200,
    wsInitTimeoutMs: 500, // also how long a reserved stream has to be opened
  });
  streamUrl = server.url.replace(/\/graphql$/, "/graphql/stream");
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

const WATCH = `subscription Watch($batchId: ID!) { jobProgress(batchId: $batchId) { batch { id status counts { succeeded } } } }`;

type Progress = { jobProgress: { batch: { id: string; status: string; counts: { succeeded: number } } } };

function client(authKey: string | undefined, singleConnection: boolean): Client {
  return createClient({
    url: streamUrl,
    singleConnection,
    retryAttempts: 0,
    headers: authKey ? { authorization: `Bearer ${authKey}` } : {},
  }) as Client;
}

async function submit(authKey: string, tasks: unknown[]): Promise<BatchView> {
  const result = await post<{ submitBatch: { batch: BatchView } }>(server.url, SUBMIT, { key: authKey, variables: { input: { tasks } } });
  if (!result.data) throw new Error(result.text);
  return result.data.submitBatch.batch;
}

/** Every result of one operation, until it completes; an error rejects. */
async function collect<T>(sse: Client, query: string, variables: Record<string, unknown> = {}): Promise<ExecutionResult<T>[]> {
  const results: ExecutionResult<T>[] = [];
  for await (const result of sse.iterate<T>({ query, variables })) results.push(result as ExecutionResult<T>);
  return results;
}

for (const singleConnection of [false, true]) {
  const mode = singleConnection ? "single connection" : "distinct connections";

  it(`${mode}: with a key, a subscription streams to the final event, and queries and mutations work`, async () => {
    const sse = client(key.key, singleConnection);
    try {
      const submitted = await collect<{ submitBatch: { batch: { id: string } } }>(
        sse,
        `mutation { submitBatch(input: { tasks: [{ kind: "sleep", input: { ms: 300 } }, { kind: "echo", input: "sse" }] }) { batch { id } } }`,
      );
      expect(submitted).toHaveLength(1);
      const batchId = submitted[0]!.data!.submitBatch.batch.id;
      const events = await collect<Progress>(sse, WATCH, { batchId });
      expect(events.every((event) => event.errors === undefined)).toBe(true);
      expect(events.at(-1)!.data!.jobProgress.batch).toEqual({ id: batchId, status: "COMPLETED", counts: { succeeded: 2 } });
      const read = await collect<{ batch: { status: string } }>(sse, `query($id: ID!) { batch(id: $id) { status } }`, { id: batchId });
      expect(read).toEqual([{ data: { batch: { status: "COMPLETED" } } }]);
    } finally {
      sse.dispose();
    }
  });

  it(`${mode}: without a key, or with an unknown one, the client gets HTTP 401 and no data`, async () => {
    for (const authKey of [undefined, "bw_not-a-real-key-at-all-0000000000000000000"]) {
      const sse = client(authKey, singleConnection);
      try {
        const failure = await collect(sse, `{ taskKinds { name } }`).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure).toMatchObject({ response: { status: 401 } });
      } finally {
        sse.dispose();
      }
    }
  });
}

it("single connection: the reserved stream counts against its key's connections, and ends when the key is revoked", async () => {
  const doomed = await createKey(db.pool, "acme");
  const batch = await submit(doomed.key, [{ kind: "sleep", input: { ms: 60_000 } }]);
  const sse = client(doomed.key, true);
  try {
    const watching = sse.iterate<Progress>({ query: WATCH, variables: { batchId: batch.id } });
    // The first event (the current snapshot) says the operation runs: with its stream, it holds
    // both of this key's connections, so one more operation is refused.
    const snapshot = await watching.next();
    expect(snapshot.value.data.jobProgress.batch.id).toBe(batch.id);
    const refused = await collect<Progress>(sse, WATCH, { batchId: batch.id });
    expect(refused.map((result) => result.errors?.[0]?.extensions?.code)).toEqual(["TOO_MANY_SUBSCRIPTIONS"]);

    await revokeKey(db.pool, doomed);
    // Within AUTH_RECHECK_SECONDS the stream is ended (the client reports it closed), or its
    // operation is told UNAUTHENTICATED first; either way nothing more arrives for this key.
    const after: ExecutionResult<Progress>[] = [];
    let ended: unknown;
    try {
      for (let next = await watching.next(); !next.done; next = await watching.next()) after.push(next.value as ExecutionResult<Progress>);
    } catch (error) {
      ended = error;
    }
    expect(ended !== undefined || after.at(-1)?.errors?.[0]?.extensions?.code === "UNAUTHENTICATED").toBe(true);
    expect(await reserve(doomed)).toBe(401);
  } finally {
    sse.dispose();
    await post(server.url, `mutation($id: ID!) { cancelBatch(id: $id) { batch { id } } }`, { key: key.key, variables: { id: batch.id } });
  }
});

async function reserve(authKey: TestKey): Promise<number> {
  const response = await fetch(streamUrl, { method: "PUT", headers: { authorization: `Bearer ${authKey.key}` } });
  await response.body?.cancel();
  return response.status;
}

it("a reserved stream that is never opened gives its key's connection back", async () => {
  const idle = await createKey(db.pool, "acme");
  for (let i = 0; i < MAX_CONNECTIONS_PER_KEY; i++) expect(await reserve(idle)).toBe(201);
  const full = await fetch(streamUrl, { method: "PUT", headers: { authorization: `Bearer ${idle.key}` } });
  expect(full.status).toBe(429);
  expect(await full.json()).toMatchObject({ errors: [{ extensions: { code: "TOO_MANY_SUBSCRIPTIONS" } }] });
  // Not opened within WS_INIT_TIMEOUT_MS, the reservations are dropped.
  await waitFor(async () => ((await reserve(idle)) === 201 ? true : undefined), 30_000, "a reservation to be accepted again");
});

it("a reserved stream is its key's alone: another key cannot open it or run operations on it", async () => {
  const other = await createKey(db.pool, "other");
  const put = await fetch(streamUrl, { method: "PUT", headers: { authorization: `Bearer ${key.key}` } });
  expect(put.status).toBe(201);
  const token = await put.text();
  const stolen = await fetch(streamUrl, { headers: { accept: "text/event-stream", authorization: `Bearer ${other.key}`, "x-graphql-event-stream-token": token } });
  expect(stolen.status).toBe(404);
  await stolen.body?.cancel();
});

it("single connection: a stream its client closes gives its key's connection back", async () => {
  const busy = await createKey(db.pool, "acme");
  // More clients, one after the other, than the key may hold connections at once.
  for (let round = 0; round < 2 * MAX_CONNECTIONS_PER_KEY + 1; round++) {
    const read = await waitFor(
      async () => {
        const sse = client(busy.key, true);
        try {
          return await collect<{ taskKinds: { name: string }[] }>(sse, `{ taskKinds { name } }`);
        } finally {
          sse.dispose();
        }
      },
      30_000,
      `round ${round}: a stream for this key`,
    );
    expect(read[0]!.data!.taskKinds.map((kind) => kind.name)).toContain("echo");
  }
});

it("a malformed or invalid operation gets its GraphQL error in both modes, not a 500", async () => {
  for (const singleConnection of [false, true]) {
    const sse = client(key.key, singleConnection);
    try {
      const broken = await collect(sse, `{ taskKinds { name }`);
      expect(broken.map((result) => result.errors?.[0]?.extensions?.code)).toEqual(["GRAPHQL_PARSE_FAILED"]);
      const invalid = await collect(sse, `{ noSuchField }`);
      expect(invalid.map((result) => result.errors?.[0]?.extensions?.code)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    } finally {
      sse.dispose();
    }
  }
});
