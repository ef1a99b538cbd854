// logFormat.test.ts: logs for people and for machines, from `node src/main.ts` as operators run
// it: readable pino-pretty lines with LOG_FORMAT=pretty and by default in a real terminal (a tmux
// pane) in development; one JSON object a line when piped, and in production even on a terminal.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startProcess } from "./helpers/process.ts";
import { waitFor } from "./helpers/server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** The env a process of this file runs with: the test database, an API role, any free port. */
const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: db.url, ROLE: "api", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...extra });

const READY_PRETTY = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: batchwire ready on http:\/\/localhost:\d+\/graphql$/m;

it("prints readable lines through pino-pretty with LOG_FORMAT=pretty, even when piped", async () => {
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env({ LOG_FORMAT: "pretty" }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    await waitFor(() => (READY_PRETTY.test(output) ? true : undefined), 60_000, "the pretty ready line");
    expect(output).toMatch(/^ {4}role: "api"$/m); // the line's fields, one a line under it
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toMatch(/^\[[\d:.]+\] INFO: batchwire stopped$/m);
    expect(output.split("\n").some((line) => line.startsWith("{"))).toBe(false);
  } finally {
    child.kill("SIGKILL");
  }
});

it("writes one JSON object a line by default when stdout is not a terminal", async () => {
  const server = await startProcess(env());
  try {
    const lines = server.output().split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ service: "batchwire", level: expect.any(Number), msg: expect.any(String) });
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
});

it("is pretty by default in a terminal in development, and JSON in production", async () => {
  const dir = await mkdtemp(join(tmpdir(), "batchwire-logs-"));
  const tmux = (...args: string[]) => run("tmux", ["-L", `batchwire-logs-${process.pid}`, "-f", join(dir, "tmux.conf"), ...args]);
  const screen = async (pane: string) => (await tmux("capture-pane", "-p", "-J", "-t", pane)).stdout;
  try {
    await writeFile(join(dir, "tmux.conf"), "set -g remain-on-exit on\nset -g status off\n");
    const vars = (extra: Record<string, string>) => Object.entries(env(extra)).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    await tmux("new-session", "-d", "-s", "dev", "-x", "200", "-y", "40", "-c", ROOT, ...vars({}), `${process.execPath} src/main.ts`);
    await tmux("new-session", "-d", "-s", "prod", "-x", "200", "-y", "40", "-c", ROOT, ...vars({ NODE_ENV: "production" }), `${process.execPath} src/main.ts`);

    const dev = await waitFor(async () => {
      const text = await screen("dev");
      return READY_PRETTY.test(text) ? text : undefined;
    }, 60_000, "the development process's pretty ready line");
    expect(dev).not.toMatch(/^\{"level"/m);
    const prod = await waitFor(async () => {
      const text = await screen("prod");
      return text.includes('"msg":"batchwire ready on') ? text : undefined;
    }, 60_000, "the production process's JSON ready line");
    const ready = prod.split("\n").find((line) => line.includes('"msg":"batchwire ready on'))!;
    expect(JSON.parse(ready)).toMatchObject({ level: 30, role: "api", service: "batchwire" });

    for (const pane of ["dev", "prod"]) await tmux("send-keys", "-t", pane, "C-c");
    await waitFor(async () => ((await screen("dev")).includes("INFO: batchwire stopped") ? true : undefined), 30_000, "the development process to stop");
    await waitFor(async () => ((await screen("prod")).includes('"msg":"batchwire stopped"') ? true : undefined), 30_000, "the production process to stop");
  } finally {
    await tmux("kill-server").catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
