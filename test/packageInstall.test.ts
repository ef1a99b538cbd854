// packageInstall.test.ts: the package as `npm install batchwire` gets it: `npm pack` (which builds
// dist/), installed into an empty project from the tarball, where Node strips no types: the
// `batchwire` bin runs, and `import { createClient } from "batchwire/client"` works.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

const run = promisify(execFile);

let server: TestServer;
serverForFile({ role: "api" }, (file) => ({ server } = file));

let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "batchwire-install-"));
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

it("installs from its packed tarball and runs there: the batchwire command and batchwire/client", async () => {
  // This Node (24) first on PATH, for npm's scripts and for the installed bin's `env node`.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  const { stdout: packed } = await run("npm", ["pack", "--silent", "--pack-destination", project], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
  const tarball = join(project, packed.trim().split("\n").at(-1)!);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--omit=optional", tarball], { cwd: project, env, maxBuffer: 16 * 1024 * 1024 });

  const bin = join(project, "node_modules", ".bin", "batchwire");
  const version = await run(bin, ["--version"], { cwd: project, env });
  expect(version.stdout).toBe("0.1.0\n");
  const kinds = await run(bin, ["kinds", "--json"], { cwd: project, env: { ...env, BATCHWIRE_URL: server.url } });
  expect((JSON.parse(kinds.stdout) as { name: string }[]).map((kind) => kind.name)).toContain("echo");

  await writeFile(
    join(project, "script.js"),
    `import { createClient } from "batchwire/client";
const client = createClient({ url: process.env.BATCHWIRE_URL });
const batch = await client.submit({ file: new Blob(['{"kind":"echo","input":1}\\n']) });
console.log(JSON.stringify({ total: batch.counts.total, resultsUrl: batch.resultsUrl === "/batches/" + batch.id + "/results.jsonl" }));
`,
  );
  const script = await run(process.execPath, ["script.js"], { cwd: project, env: { ...env, BATCHWIRE_URL: server.url } });
  expect(JSON.parse(script.stdout)).toEqual({ total: 1, resultsUrl: true });
}, 240_000);
