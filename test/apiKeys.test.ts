// apiKeys.test.ts: API keys: the keys CLI, Bearer keys over HTTP, connection_init keys over
// graphql-ws, revocation reaching open sockets and streams, and the open development mode.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { hashKey } from "../src/auth/apiKeys.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { SUBMIT } from "./helpers/batches.ts";
import { JOB_PROGRESS } from "./helpers/subscriptions.ts";
import {
  acknowledgedSocket,
  codes,
  createKey,
  keyedClient,
  operationCodes,
  post,
  rawSocket,
  revokeKey,
  runOperation,
} from "./helpers/auth.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BATCHES = `{ batches(first: 5) { totalCount edges { node { id } } } }`;
const sleepBatch = (ms: number) => ({ tasks: [{ kind: "sleep", input: { ms } }] });

function runKeys(databaseUrl: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["src/cli/main.ts", "keys", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DATABASE_URL: databaseUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("in production", () => {
  let db: TestDatabase;
  let server: TestServer;

  serverForFile({ production: true, authRecheckMs: 200, role: "api" }, (file) => ({ db, server } = file));

  it("`npm run keys` creates a key shown once on the last line, stores only its hash, lists and revokes it", async () => {
    const created = await runKeys(db.url, ["create", "--tenant", "acme", "--name", "ci"]);
    expect(created.code).toBe(0);
    const lines = created.stdout.trimEnd().split("\n");
    const key = lines.at(-1)!;
    expect(key).toMatch(/^bw_[A-Za-z0-9_-]{43}$/);

    // The table holds the hash and a short prefix, never the key.
    const { rows } = await db.pool.query(`select * from api_key`);
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toBe(hashKey(key));
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(key.startsWith(rows[0].prefix)).toBe(true);
    expect(rows[0].prefix.length).toBeLessThan(16);

    const ok = await post(server.url, BATCHES, { key });
    expect(ok.status).toBe(200);
    expect(ok.errors).toBeUndefined();

    const listed = await runKeys(db.url, ["list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(rows[0].id);
    expect(listed.stdout).toContain("acme");
    expect(listed.stdout).toContain("active");
    expect(listed.stdout).not.toContain(key);

    const revoked = await runKeys(db.url, ["revoke", rows[0].id]);
    expect(revoked.code).toBe(0);
    expect((await runKeys(db.url, ["list", "--tenant", "acme"])).stdout).toContain("revoked");

    const refused = await post(server.url, BATCHES, { key });
    expect(refused.status).toBe(401);
    expect(codes(refused)).toEqual(["UNAUTHENTICATED"]);

    const bad = await runKeys(db.url, ["create"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--tenant");
    expect((await runKeys(db.url, ["revoke", "00000000-0000-4000-8000-000000000000"])).code).toBe(1);
  });

  it("answers a missing, malformed, unknown or revoked Bearer key with 401 UNAUTHENTICATED", async () => {
    const key = await createKey(db.pool, "acme");
    const revoked = await createKey(db.pool, "acme");
    await revokeKey(db.pool, revoked);
    const attempts: Record<string, Record<string, string>> = {
      missing: {},
      "not bearer": { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
      "bearer without key": { authorization: "Bearer" },
      unknown: { authorization: `Bearer bw_${"A".repeat(43)}` },
      "not a key at all": { authorization: "Bearer hunter2" },
      revoked: { authorization: `Bearer ${revoked.key}` },
      "another key's prefix": { authorization: `Bearer ${key.key.slice(0, 20)}` },
    };
    for (const [what, headers] of Object.entries(attempts)) {
      const result = await post(server.url, BATCHES, { headers });
      expect(result.status, what).toBe(401);
      expect(codes(result), what).toEqual(["UNAUTHENTICATED"]);
      expect(result.headers.get("www-authenticate"), what).toContain("Bearer");
      expect(result.data ?? null, what).toBeNull();
    }
    // Mutations are refused before anything is written.
    const submit = await post(server.url, SUBMIT, { variables: { input: sleepBatch(1) } });
    expect(submit.status).toBe(401);
    expect((await db.pool.query(`select count(*)::int as n from batch`)).rows[0].n).toBe(0);

    const ok = await post(server.url, BATCHES, { key: key.key });
    expect(ok.status).toBe(200);
    expect(ok.data).toMatchObject({ batches: { totalCount: 0 } });
  });

  it("closes a WebSocket whose connection_init has no key or a bad one with 4403", async () => {
    const revoked = await createKey(db.pool, "acme");
    await revokeKey(db.pool, revoked);
    for (const key of [undefined, `bw_${"B".repeat(43)}`, revoked.key, "nonsense"]) {
      const client = keyedClient(server.wsUrl, key);
      try {
        const outcome = await runOperation(client, BATCHES);
        expect((outcome.error as { code?: number }).code, String(key)).toBe(4403);
        expect(outcome.results).toEqual([]);
      } finally {
        await client.dispose();
      }
    }
    // A non-string authorization is refused the same way.
    const raw = rawSocket(server.wsUrl);
    await raw.opened;
    raw.send({ type: "connection_init", payload: { authorization: { bearer: true } } });
    expect((await raw.closed).code).toBe(4403);
  });

  it("runs operations for a good key over graphql-ws", async () => {
    const key = await createKey(db.pool, "acme");
    const client = keyedClient(server.wsUrl, key.key);
    try {
      const outcome = await runOperation(client, BATCHES);
      expect(outcome.completed).toBe(true);
      expect(outcome.results[0]?.errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });

  it("closes an open socket with 4403 once its key is revoked, mid-subscription", async () => {
    const key = await createKey(db.pool, "acme");
    const submitted = await post<{ submitBatch: { batch: { id: string } } }>(server.url, SUBMIT, { key: key.key, variables: { input: sleepBatch(60_000) } });
    const batchId = submitted.data!.submitBatch.batch.id;
    const raw = await acknowledgedSocket(server.wsUrl, key.key);
    raw.send({ id: "1", type: "subscribe", payload: { query: JOB_PROGRESS, variables: { batchId } } });
    await raw.next((m) => m.type === "next");

    await revokeKey(db.pool, key);
    const closed = await raw.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toContain("revoked");
  });

  it("refuses the next operation on an open socket as soon as its key is revoked", async () => {
    const key = await createKey(db.pool, "acme");
    const slow = await startServer(db.url, { production: true, authRecheckMs: 3_600_000, role: "api" });
    try {
      const raw = await acknowledgedSocket(slow.wsUrl, key.key);
      await revokeKey(db.pool, key);
      raw.send({ id: "1", type: "subscribe", payload: { query: BATCHES } });
      expect((await raw.closed).code).toBe(4403);
      expect(raw.messages.some((m) => m.type === "next")).toBe(false);
    } finally {
      await slow.stop();
    }
  });

  it("ends an SSE subscription with UNAUTHENTICATED once its key is revoked", async () => {
    const key = await createKey(db.pool, "acme");
    const submitted = await post<{ submitBatch: { batch: { id: string } } }>(server.url, SUBMIT, { key: key.key, variables: { input: sleepBatch(60_000) } });
    const batchId = submitted.data!.submitBatch.batch.id;
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key.key}` },
      body: JSON.stringify({ query: JOB_PROGRESS, variables: { batchId } }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = "";
    const read = async (until: (t: string) => boolean) => {
      while (!until(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    };
    await read((t) => t.includes("event: next"));
    await revokeKey(db.pool, key);
    await read(() => false); // to the end of the stream
    expect(text).toContain("UNAUTHENTICATED");
    expect(text).toContain("event: complete");
  });
});

describe("in development", () => {
  let db: TestDatabase;
  let server: TestServer;

  serverForFile({ production: false, authRecheckMs: 200, role: "api" }, (file) => ({ db, server } = file));

  it("runs open as tenant 'default' until the first key is created, then requires keys", async () => {
    const open = await post<{ submitBatch: { batch: { id: string } } }>(server.url, SUBMIT, { variables: { input: sleepBatch(60_000) } });
    expect(open.status).toBe(200);
    const batchId = open.data!.submitBatch.batch.id;
    expect((await db.pool.query(`select owner from batch where id = $1`, [batchId])).rows[0].owner).toBe("default");

    // An open socket of the open mode ...
    const raw = await acknowledgedSocket(server.wsUrl);
    raw.send({ id: "1", type: "subscribe", payload: { query: JOB_PROGRESS, variables: { batchId } } });
    await raw.next((m) => m.type === "next");

    const key = await createKey(db.pool, "default");
    // ... is closed once a key exists, and keyless requests are refused.
    expect((await raw.closed).code).toBe(4403);
    const refused = await post(server.url, BATCHES);
    expect(refused.status).toBe(401);
    expect(codes(refused)).toEqual(["UNAUTHENTICATED"]);

    // A key of the default tenant sees what the open mode stored.
    const mine = await post<{ batches: { edges: { node: { id: string } }[] } }>(server.url, BATCHES, { key: key.key });
    expect(mine.data!.batches.edges.map((e) => e.node.id)).toEqual([batchId]);

    // Revoking every key does not reopen the server.
    await revokeKey(db.pool, key);
    expect((await post(server.url, BATCHES)).status).toBe(401);
    const client = keyedClient(server.wsUrl, undefined);
    try {
      const outcome = await runOperation(client, BATCHES);
      expect((outcome.error as { code?: number }).code).toBe(4403);
    } finally {
      await client.dispose();
    }
  });

  it("still refuses a bad key even while open", async () => {
    const fresh = await createTestDatabase();
    const openServer = await startServer(fresh.url, { production: false, role: "api" });
    try {
      expect((await post(openServer.url, BATCHES)).status).toBe(200);
      const bad = await post(openServer.url, BATCHES, { key: `bw_${"C".repeat(43)}` });
      expect(bad.status).toBe(401);
      expect(codes(bad)).toEqual(["UNAUTHENTICATED"]);
      await waitFor(async () => ((await post(openServer.url, BATCHES)).status === 200 ? true : undefined));
    } finally {
      await openServer.stop();
      await fresh.drop();
    }
  });
});
