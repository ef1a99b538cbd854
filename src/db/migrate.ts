// migrate.ts: applies migrations/ with node-pg-migrate (one transaction per file).
//
// node-pg-migrate takes an advisory lock and fails when another migrator holds it. Processes of a
// deployment start together, so we first wait on a lock of our own: the second process to start
// waits for the first to finish, then finds nothing left to run.
import { fileURLToPath } from "node:url";
import pg from "pg";
import { runner } from "node-pg-migrate";
import type { Logger } from "../logger.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

const LOCK = "hashtext('batchwire.migrate')";

export async function migrate(databaseUrl: string, log: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "batchwire-migrate" });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(${LOCK})`);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "batchwire_migrations",
      singleTransaction: false,
      checkOrder: true,
      log: (message: string) => log.debug({ migrate: message }, "migration"),
    });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "migrations applied");
  } finally {
    await client.query(`select pg_advisory_unlock(${LOCK})`).catch(() => undefined);
    await client.end();
  }
}
