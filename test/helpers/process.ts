// process.ts: batchwire as a separate OS process (`node src/main.ts`), as operators run it.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

// A test that fails or times out may never reach its clean-up; its servers must not outlive it
// (setup.ts calls this after every file).
const children = new Set<ChildProcess>();

export function killStrayProcesses(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}
process.once("exit", killStrayProcesses);

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node src/main.ts` with `env` and resolves once it logs that it is ready. */
export async function startProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = track(
    spawn(process.execPath, ["src/main.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const line = output.split("\n").find((l) => l.includes('"batchwire ready'));
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
    exited,
    kill: (signal) => child.kill(signal),
  };
}

/** Runs `node src/main.ts` to its exit; for start-up failures. */
export async function runProcess(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { code, output };
}
