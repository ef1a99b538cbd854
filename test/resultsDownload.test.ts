// resultsDownload.test.ts: GET /batches/{id}/results.jsonl: one line per task in index order, a
// status filter, tenants kept apart, and a slow reader that cannot make the server hold the file.
import { request, type IncomingMessage } from "node:http";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createClient } from "../src/client/index.ts";
import { createKey } from "./helpers/auth.ts";
import { waitForFinal } from "./helpers/batches.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startProcess } from "./helpers/process.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

const jsonl = (lines: unknown[]) => new Blob([lines.map((line) => JSON.stringify(line)).join("\n")]);
const resultsUrl = (server: TestServer, path: string) => server.url.replace(/\/graphql$/, path);

describe("results.jsonl", () => {
  let server: TestServer;
  serverForFile({ workerConcurrency: 4 }, (file) => ({ server } = file));

  it("streams one line per task in index order, with the documented fields, and filters by status", async () => {
    const client = createClient({ url: server.url });
    const tasks = Array.from({ length: 450 }, (_, i) =>
      i % 150 === 7 ? { kind: "fail", input: { times: 5, message: `no ${i}` }, customId: `t${i}` } : { kind: "echo", input: { i }, customId: `t${i}` },
    );
    const batch = await client.submit({ file: jsonl(tasks) });
    await waitForFinal(server.url, batch.id);

    const response = await fetch(resultsUrl(server, batch.resultsUrl));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/jsonl; charset=utf-8");
    const text = await response.text();
    const lines = text.trimEnd().split("\n");
    expect(text.endsWith("\n")).toBe(true);
    expect(lines).toHaveLength(450);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => line.index)).toEqual(tasks.map((_, i) => i));
    expect(Object.keys(parsed[0]!)).toEqual(["index", "customId", "kind", "status", "attempts", "result", "error"]);
    expect(parsed[0]).toEqual({ index: 0, customId: "t0", kind: "echo", status: "SUCCEEDED", attempts: 1, result: { i: 0 }, error: null });
    expect(parsed[7]).toEqual({ index: 7, customId: "t7", kind: "fail", status: "FAILED", attempts: 3, result: null, error: { code: "PLANNED_FAILURE", message: "no 7" } });

    const failed = [];
    for await (const line of client.results(batch.id, { status: "FAILED" })) failed.push(line.index);
    expect(failed).toEqual([7, 157, 307]);
  });

  it("answers an unknown id with 404 and an unknown status with 400", async () => {
    const unknown = await fetch(resultsUrl(server, "/batches/00000000-0000-4000-8000-000000000000/results.jsonl"));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ errors: [{ extensions: { code: "NOT_FOUND" } }] });
    const notAnId = await fetch(resultsUrl(server, "/batches/../results.jsonl"));
    expect(notAnId.status).toBe(404);
    await notAnId.body?.cancel();

    const batch = await createClient({ url: server.url }).submit([{ kind: "echo", input: 1 }]);
    const badStatus = await fetch(resultsUrl(server, `${batch.resultsUrl}?status=DONE`));
    expect(badStatus.status).toBe(400);
    expect(await badStatus.json()).toMatchObject({ errors: [{ extensions: { code: "BAD_USER_INPUT" } }] });
  });
});

describe("results.jsonl with API keys", () => {
  let db: TestDatabase;
  let server: TestServer;
  serverForFile({ role: "api", production: true }, (file) => ({ db, server } = file));

  it("needs the key (401), and answers another tenant's batch as an unknown one (404)", async () => {
    const alice = await createKey(db.pool, "alice");
    const bob = await createKey(db.pool, "bob");
    const batch = await createClient({ url: server.url, key: alice.key }).submit([{ kind: "echo", input: 1 }]);
    const url = resultsUrl(server, batch.resultsUrl);

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
    await anonymous.body?.cancel();

    const foreign = await fetch(url, { headers: { authorization: `Bearer ${bob.key}` } });
    const unknown = await fetch(resultsUrl(server, "/batches/00000000-0000-4000-8000-000000000000/results.jsonl"), {
      headers: { authorization: `Bearer ${bob.key}` },
    });
    expect(foreign.status).toBe(404);
    const [foreignBody, unknownBody] = [await foreign.text(), await unknown.text()];
    expect(foreignBody.replace(batch.id, "ID")).toBe(unknownBody.replace("00000000-0000-4000-8000-000000000000", "ID"));

    const own = await fetch(url, { headers: { authorization: `Bearer ${alice.key}` } });
    expect(own.status).toBe(200);
    expect(JSON.parse(await own.text())).toMatchObject({ index: 0, status: "QUEUED", result: null });
  });
});

/** The resident memory of a process, in bytes (Linux). */
async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

describe("results.jsonl for a slow reader", () => {
  it("holds the server to a page or so while the client does not read, then streams the rest", async () => {
    const db = await createTestDatabase();
    const api = await startProcess({ DATABASE_URL: db.url, ROLE: "api" });
    try {
      const client = createClient({ url: api.url });
      const tasks = 25_000;
      const batch = await client.submit({ file: jsonl(Array.from({ length: tasks }, (_, i) => ({ kind: "echo", input: i }))) });
      // 4 KB results, straight into the rows: 100 MB of download that no worker has to make.
      await db.pool.query(`update task set status = 'SUCCEEDED', attempts = 1, result = to_jsonb(repeat('r', 4000)) where batch_id = $1`, [batch.id]);
      const total = tasks * 4_000;
      // Once through, so the route and its code are warm before the baseline is taken.
      let warm = 0;
      for await (const _ of client.results(batch.id, { status: "FAILED" })) warm++;
      expect(warm).toBe(0);
      const baseline = await residentBytes(api.child.pid!);

      const download = await new Promise<IncomingMessage>((resolve, reject) =>
        request(`http://127.0.0.1:${api.port}${batch.resultsUrl}`, resolve).on("error", reject).end(),
      );
      download.pause();
      let received = 0;
      // The reader takes nothing for a while; a server that read on regardless would hold the
      // whole download (100 MB) by the end of this window.
      let grown = 0;
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline) {
        grown = Math.max(grown, (await residentBytes(api.child.pid!)) - baseline);
        if (grown > total / 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(grown).toBeLessThan(40 * 1024 * 1024);

      let lines = 0;
      download.on("data", (chunk: Buffer) => {
        received += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      });
      download.resume();
      await waitFor(() => (download.complete && download.readableEnded ? true : undefined), 60_000, "the download to end");
      expect(lines).toBe(tasks);
      expect(received).toBeGreaterThan(total * 0.9);
    } finally {
      api.kill("SIGTERM");
      await api.exited;
      await db.drop();
    }
  }, 120_000);
});
