// embedded.test.ts: `npm start` with no DATABASE_URL runs on an embedded PostgreSQL in a data
// folder, serves GraphiQL and /healthz, and a second start keeps the earlier batches.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startProcess } from "./helpers/process.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "batchwire-embedded-"));
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it("starts on an embedded database, serves GraphiQL and /healthz, and keeps batches across restarts", async () => {
  const first = await startProcess({ DATA_DIR: dataDir });
  let batchId: string;
  try {
    const health = await fetch(`http://127.0.0.1:${first.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", role: "all" });

    const page = await fetch(first.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("<title>batchwire</title>");
    expect(html).not.toMatch(/<script[^>]+src="https?:/); // assets are served inline, not from a CDN

    const batch = await submitOk(first.url, { tasks: [{ kind: "echo", input: { kept: true } }] });
    batchId = batch.id;
    await waitForFinal(first.url, batchId);
  } finally {
    first.kill("SIGTERM");
  }
  expect(await first.exited).toBe(0);
  expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(false);

  const second = await startProcess({ DATA_DIR: dataDir });
  try {
    const again = await getBatch(second.url, batchId);
    expect(again).toMatchObject({ id: batchId, status: "COMPLETED" });
  } finally {
    second.kill("SIGTERM");
  }
  expect(await second.exited).toBe(0);
});
