// process.ts: batchwire as a separate OS process (`node src/main.ts`, or `npm start` as a person
// types it), as operators run it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Tracked {
  /** A process group of its own (npm start under a "terminal"): the whole group is killed. */
  group: boolean;
  dataDir: string | undefined;
}

// A test that fails or times out may never reach its clean-up; its servers must not outlive it
// (setup.ts calls this after every file). That includes an embedded PostgreSQL, which runs in a
// session of its own and outlives a SIGKILLed batchwire.
const children = new Map<ChildProcess, Tracked>();

export function killStrayProcesses(): void {
  for (const [child, { group, dataDir }] of children) {
    try {
      if (group && child.pid) process.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch {
      // already gone
    }
    if (dataDir) stopPostmaster(dataDir);
  }
  children.clear();
}
process.once("exit", killStrayProcesses);

/** The pid in DATA_DIR's postmaster.pid, while that process lives. */
export function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function stopPostmaster(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid) process.kill(pid, "SIGQUIT");
}

export interface ProcessOptions {
  /** Run `npm start` in a process group of its own, as a terminal runs a foreground job. */
  npm?: boolean;
  /** Working directory (default: the repository). */
  cwd?: string;
  timeoutMs?: number;
}

function launch(env: Record<string, string>, options: ProcessOptions): ChildProcess {
  const [command, args] = options.npm ? ["npm", ["start"]] : [process.execPath, ["src/main.ts"]];
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.npm === true,
  });
  // Its embedded PostgreSQL, if it runs one, lives in DATA_DIR (by default .data in its folder).
  const dataDir = env.DATABASE_URL ? undefined : resolve(options.cwd ?? ROOT, env.DATA_DIR ?? ".data");
  children.set(child, { group: options.npm === true, dataDir });
  child.once("exit", () => children.delete(child));
  return child;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** What it printed on stderr alone. */
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** Signals the whole process group, as a terminal's Ctrl-C does (npm only). */
  killGroup(signal: NodeJS.Signals): void;
}

/** The "ready" line: `batchwire ready on …/graphql`, or a worker's `batchwire worker ready …`. */
const READY = /"msg":"batchwire (worker )?ready/;

/** Starts batchwire with `env` and resolves once it logs that it is ready. */
export async function startProcess(env: Record<string, string>, options: ProcessOptions = {}): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = launch({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env }, options);
  let output = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  // "close", not "exit": the output is complete once it resolves.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const line = output.split("\n").find((l) => READY.test(l));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    output: () => output,
    stderr: () => stderr,
    exited,
    kill: (signal) => child.kill(signal),
    killGroup: (signal) => process.kill(-child.pid!, signal),
  };
}

/** Runs batchwire to its exit; for start-up failures. */
export async function runProcess(env: Record<string, string>, options: ProcessOptions = {}): Promise<{ code: number | null; output: string; stderr: string }> {
  const child = launch(env, options);
  let output = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  return { code, output, stderr };
}
