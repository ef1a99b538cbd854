// migrate.ts: applies migrations/ with node-pg-migrate (one transaction per file, advisory lock).
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type { Logger } from "../logger.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function migrate(databaseUrl: string, log: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: "batchwire_migrations",
    singleTransaction: false,
    checkOrder: true,
    log: (message: string) => log.debug({ migrate: message }, "migration"),
  });
  if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "migrations applied");
}
