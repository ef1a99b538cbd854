// postgresServer.ts: runs initdb and the postgres server from the bundled binaries. The server gets
// a session of its own: a terminal's Ctrl-C goes to the whole foreground process group, and must
// reach batchwire alone, which stops the server last, after its own flush.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, rm, writeFile, chown } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "../logger.ts";
import { EmbeddedPostgresError, type RunAs } from "./postgresAccess.ts";
import type { PostgresBinaries } from "./postgresBinaries.ts";

const START_TIMEOUT_MS = 60_000; // initdb or a crash recovery on a slow disk
// A stop is smart first: the server waits for the sessions that are closing (ours, at the end of a
// stop) instead of terminating them with errors in the middle of their goodbye. Sessions still
// open after SMART_STOP_MS are terminated (fast shutdown); after STOP_TIMEOUT_MS, an immediate one.
const SMART_STOP_MS = 2_000;
const STOP_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

export interface ClusterOptions {
  binaries: PostgresBinaries;
  databaseDir: string;
  /** Who runs the binaries; undefined: this process's user. */
  user: RunAs | undefined;
  log: Logger;
}

/** A process's stderr, logged as it comes, with its last lines kept for an error message. */
function capture(child: ChildProcess, log: Logger): () => string {
  const lines: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      log.trace({ postgres: line.trim() }, "embedded postgres");
      lines.push(line.trim());
      if (lines.length > 20) lines.shift();
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  // The most telling line: PostgreSQL's own FATAL/ERROR, else the last one.
  return () => lines.findLast((line) => /FATAL|ERROR|initdb: error/.test(line)) ?? lines.at(-1) ?? "";
}

function spawnAs(command: string, args: string[], user: RunAs | undefined, cwd: string, detached: boolean): ChildProcess {
  return spawn(command, args, {
    ...(user && { uid: user.uid, gid: user.gid }),
    cwd,
    detached,
    stdio: ["ignore", "pipe", "pipe"],
    // English messages: the last of them may become our error line.
    env: { ...process.env, LC_MESSAGES: "C" },
  });
}

function cannotRun(command: string, error: NodeJS.ErrnoException): EmbeddedPostgresError {
  return new EmbeddedPostgresError(`cannot run ${command} (${error.code ?? error.message}); start from a folder the server's user can enter, or set DATABASE_URL`);
}

/** Creates a cluster in the empty `databaseDir`, with one superuser and its password. */
export async function initCluster({ binaries, databaseDir, user, log }: ClusterOptions, superuser: string, password: string): Promise<void> {
  // Beside the cluster's folder, which its user can reach by construction.
  const passwordFile = join(dirname(databaseDir), `.pwfile-${process.pid}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user) await chown(passwordFile, user.uid, user.gid);
  try {
    const child = spawnAs(
      binaries.initdb,
      [`--pgdata=${databaseDir}`, "--auth=password", `--username=${superuser}`, `--pwfile=${passwordFile}`, "--encoding=UTF8", "--no-locale"],
      user,
      binaries.binDir,
      false,
    );
    const lastLine = capture(child, log);
    await new Promise<void>((resolve, reject) => {
      child.once("error", (error) => reject(cannotRun(binaries.initdb, error)));
      child.once("close", (code) =>
        code === 0 ? resolve() : reject(new EmbeddedPostgresError(`initdb failed in ${databaseDir} (exit ${code}): ${lastLine()}`)),
      );
    });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

export interface RunningPostgres {
  pid: number;
  /** Shuts the server down (smart, then fast, then immediate); idempotent. */
  stop(): Promise<void>;
}

/** postmaster.pid: line 1 the pid, line 8 the status ("ready" once it accepts connections). */
async function isReady(databaseDir: string, pid: number): Promise<boolean> {
  const lines = (await readFile(join(databaseDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n");
  return Number(lines[0]) === pid && lines[7]?.trim() === "ready";
}

export async function startServer(options: ClusterOptions, port: number, flags: string[]): Promise<RunningPostgres> {
  const { binaries, databaseDir, user, log } = options;
  const child = spawnAs(binaries.postgres, ["-D", databaseDir, "-p", String(port), ...flags], user, databaseDir, true);
  const lastLine = capture(child, log);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const spawnFailed = new Promise<never>((_, reject) => child.once("error", (error) => reject(cannotRun(binaries.postgres, error))));
  spawnFailed.catch(() => undefined);
  // Should this process end without stop() (a forced exit, a crash), the server goes with it.
  const onExit = () => {
    if (!exited) child.kill("SIGINT");
  };
  process.on("exit", onExit);

  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.pid !== undefined && (await isReady(databaseDir, child.pid))) break;
      if (exited) throw new EmbeddedPostgresError(`the embedded PostgreSQL in ${databaseDir} did not start: ${lastLine()}`);
      if (Date.now() > deadline) throw new EmbeddedPostgresError(`the embedded PostgreSQL in ${databaseDir} was not ready after ${START_TIMEOUT_MS / 1000} s: ${lastLine()}`);
      await Promise.race([new Promise((resolve) => setTimeout(resolve, POLL_MS)), exit, spawnFailed]);
    }
  } catch (error) {
    if (!exited) child.kill("SIGQUIT");
    process.off("exit", onExit);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    stop: () =>
      (stopping ??= (async () => {
        if (!exited) {
          child.kill("SIGTERM");
          const fast = setTimeout(() => child.kill("SIGINT"), SMART_STOP_MS);
          const immediate = setTimeout(() => child.kill("SIGQUIT"), STOP_TIMEOUT_MS);
          await exit;
          clearTimeout(fast);
          clearTimeout(immediate);
        }
        process.off("exit", onExit);
      })()),
  };
}
