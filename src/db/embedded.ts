// embedded.ts: the zero-setup default, a PostgreSQL cluster in a local data folder: owned by one
// process at a time, initialised on first use, left running by a dead process cleaned up.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import type { Logger } from "../logger.ts";
import { lockDataDir } from "./dataDirLock.ts";
import { clusterDir, postgresUser, reachableBinaries } from "./postgresAccess.ts";
import { bundledBinaries } from "./postgresBinaries.ts";
import { initCluster, startServer } from "./postgresServer.ts";

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** Stops the server and gives DATA_DIR up. */
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "batchwire";

// Loopback only, on a port of its own. No Unix socket: a system server may already own the
// default socket directory.
const SERVER_FLAGS = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"];

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, run by another user (as root, the server runs as `postgres`).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function postmasterPid(databaseDir: string): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = resolve(databaseDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined; // stale: postgres cleans it up itself
  return { pid, port };
}

/**
 * A server left running by a process that died holds the cluster; we own DATA_DIR now, so it is
 * nobody's: stop it first.
 */
async function stopOrphan(databaseDir: string, log: Logger): Promise<void> {
  const orphan = await postmasterPid(databaseDir);
  if (!orphan) return;
  log.warn({ pid: orphan.pid, databaseDir }, "stopping an embedded PostgreSQL left running by an earlier process");
  process.kill(orphan.pid, "SIGINT"); // fast shutdown
  const deadline = Date.now() + 30_000;
  while (alive(orphan.pid)) {
    if (Date.now() > deadline) throw new Error(`embedded PostgreSQL (pid ${orphan.pid}) in ${databaseDir} did not stop`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The URL of the cluster a running batchwire keeps in `dataDir`, read from its postmaster.pid
 * (line 4 is the port); undefined when none runs. Tools such as `npm run keys` use it rather
 * than start a second cluster on the same folder.
 */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  const running = await postmasterPid(resolve(dataDir, "postgres")).catch(() => undefined);
  if (!running || !Number.isInteger(running.port) || running.port <= 0) return undefined;
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/postgres`;
}

/**
 * Takes `dataDir` for this process (DataDirInUseError when a live one holds it), then starts
 * (initialising on first use) the cluster kept in it, so a second start finds the earlier batches.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger, port?: number): Promise<EmbeddedDatabase> {
  const lock = await lockDataDir(dataDir);
  try {
    const user = await postgresUser(log);
    const binaries = await reachableBinaries(await bundledBinaries(), user, log);
    const databaseDir = await clusterDir(dataDir, user, log);
    const cluster = { binaries, databaseDir, user, log };
    await stopOrphan(databaseDir, log);
    if (!existsSync(resolve(databaseDir, "PG_VERSION"))) {
      log.info({ databaseDir }, "initialising embedded PostgreSQL");
      await initCluster(cluster, USER, PASSWORD);
    }
    port ??= await freePort();
    const server = await startServer(cluster, port, SERVER_FLAGS);
    log.info({ databaseDir, port, pid: server.pid }, "embedded PostgreSQL started");
    let stopping: Promise<void> | undefined;
    return {
      port,
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
      stop: () =>
        (stopping ??= (async () => {
          await server.stop();
          await lock.release();
          log.info({ databaseDir }, "embedded PostgreSQL stopped");
        })()),
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
