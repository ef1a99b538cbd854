// privateFolder.test.ts: `npm start` from a folder only its owner can enter (/root/app on a fresh
// VM, a container's default). As root, the embedded PostgreSQL runs as the `postgres` OS user,
// which cannot reach into such a folder: batchwire must still start, keep its batches across
// restarts, and never die of an unhandled 'error' event.
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readlink, rm, stat } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ROOT, startProcess } from "./helpers/process.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";

let home: string;
let app: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "batchwire-private-")); // mode 0700: only its owner enters
  app = join(home, "app");
  await mkdir(app);
  // A clone with its own node_modules (hard links: the same files, reached through this folder).
  for (const entry of ["src", "migrations", "package.json"]) await cp(join(ROOT, entry), join(app, entry), { recursive: true });
  execFileSync("cp", ["-al", join(ROOT, "node_modules"), join(app, "node_modules")]);
});

afterAll(async () => {
  // As root, the cluster lives where the `postgres` user can reach it, linked from DATA_DIR.
  const cluster = await readlink(join(app, ".data", "postgres")).catch(() => undefined);
  if (cluster) await rm(cluster, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

function expectNoTrouble(output: string): void {
  expect(output).not.toContain("EACCES");
  expect(output).not.toContain("Unhandled");
  expect(output).not.toMatch(/^\s+at /m);
}

it("starts from a folder only its owner can enter, with the default DATA_DIR inside it, and keeps batches across restarts", async () => {
  expect((await stat(home)).mode & 0o777).toBe(0o700);
  const first = await startProcess({}, { cwd: app });
  let batchId: string;
  try {
    const batch = await submitOk(first.url, { tasks: [{ kind: "sleep", input: { ms: 100 } }, { kind: "echo", input: "private" }] });
    batchId = batch.id;
    expect((await waitForFinal(first.url, batch.id)).counts.succeeded).toBe(2);
    if (userInfo().uid === 0) expect(first.output()).toContain("its cluster is kept where it can");
  } finally {
    first.kill("SIGTERM");
  }
  expect(await first.exited).toBe(0);
  expectNoTrouble(first.output());

  const second = await startProcess({}, { cwd: app });
  try {
    expect(await getBatch(second.url, batchId)).toMatchObject({ status: "COMPLETED" });
  } finally {
    second.kill("SIGINT");
  }
  expect(await second.exited).toBe(0);
  expectNoTrouble(second.output());
}, 180_000);
