// dataDirOwnership.test.ts: one batchwire process owns a DATA_DIR. A second start on it while the
// first lives exits 1 with one line and leaves the first (and its database) alone; a leftover of
// a process that is gone, its PostgreSQL still running, is cleaned up as before.
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OWNER_FILE } from "../src/db/dataDirLock.ts";
import { isAlive, postmasterPid, runProcess, startProcess } from "./helpers/process.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";
import { waitFor } from "./helpers/server.ts";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "batchwire-owner-"));
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it("a second start on a DATA_DIR in use exits 1 with one line naming the folder, the owner and the way out; the first keeps working", async () => {
  const first = await startProcess({ DATA_DIR: dataDir });
  try {
    const postgresPid = postmasterPid(dataDir);
    const second = await runProcess({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `batchwire: DATA_DIR ${dataDir} is in use by batchwire process ${first.child.pid}; to run a second instance, give it another DATA_DIR, or point both at one PostgreSQL with DATABASE_URL`,
    );
    expect(second.output).not.toContain("left running by an earlier process");

    // The first server's database was not touched: it still serves requests, not only /healthz.
    expect(postmasterPid(dataDir)).toBe(postgresPid);
    const batch = await submitOk(first.url, { tasks: [{ kind: "echo", input: "still here" }] });
    expect((await waitForFinal(first.url, batch.id)).status).toBe("COMPLETED");
  } finally {
    first.kill("SIGTERM");
  }
  expect(await first.exited).toBe(0);
});

it("the leftover of a process that is gone (owner file, PostgreSQL still running) is cleaned up by the next start", async () => {
  const doomed = await startProcess({ DATA_DIR: dataDir });
  const batch = await submitOk(doomed.url, { tasks: [{ kind: "echo", input: "kept" }] });
  await waitForFinal(doomed.url, batch.id);
  const orphan = postmasterPid(dataDir)!;
  doomed.kill("SIGKILL");
  await doomed.exited;
  // What it left behind: its owner file, naming a pid that is gone, and its PostgreSQL.
  expect(Number((await readFile(join(dataDir, OWNER_FILE), "utf8")).split(" ")[0])).toBe(doomed.child.pid);
  expect(isAlive(orphan)).toBe(true);

  const next = await startProcess({ DATA_DIR: dataDir });
  try {
    expect(next.output()).toContain("stopping an embedded PostgreSQL left running by an earlier process");
    expect(isAlive(orphan)).toBe(false);
    expect(await getBatch(next.url, batch.id)).toMatchObject({ status: "COMPLETED" });
    expect(Number((await readFile(join(dataDir, OWNER_FILE), "utf8")).split(" ")[0])).toBe(next.child.pid);
  } finally {
    next.kill("SIGTERM");
  }
  expect(await next.exited).toBe(0);
  await waitFor(() => (postmasterPid(dataDir) === undefined ? true : undefined), 30_000, "PostgreSQL to stop");
});
