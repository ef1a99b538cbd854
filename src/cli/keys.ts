// keys.ts: `batchwire keys create|list|revoke` (also `npm run keys`): manages API keys in the database
// batchwire uses (DATABASE_URL, or the embedded cluster in DATA_DIR: the running one, else started
// for the command). A new key is printed once, alone on the last line of output; only its SHA-256 is
// stored.
import type { Command } from "commander";
import pg from "pg";
import { generateKey, TENANT_PATTERN } from "../auth/apiKeys.ts";
import { insertApiKey } from "../auth/sql/insertApiKey.ts";
import { listApiKeys, type ApiKeyRow } from "../auth/sql/listApiKeys.ts";
import { revokeApiKey } from "../auth/sql/revokeApiKey.ts";
import { isUuid } from "../batches/rows.ts";
import { loadConfig } from "../config.ts";
import { runningEmbeddedUrl, startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded.ts";
import { migrate } from "../db/migrate.ts";
import { createLogger } from "../logger.ts";
import { UsageError } from "./output.ts";

function describe(key: ApiKeyRow): string {
  const status = key.revoked_at ? `revoked ${key.revoked_at.toISOString()}` : "active";
  return [key.id, key.tenant, `${key.prefix}…`, status, key.created_at.toISOString(), key.name ?? ""].join("\t");
}

function view(key: ApiKeyRow) {
  return { id: key.id, tenant: key.tenant, prefix: key.prefix, name: key.name, createdAt: key.created_at, revokedAt: key.revoked_at };
}

/** Runs `work` on a pool of the configured database, migrated first. */
async function withDatabase<T>(work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // The output is for people and scripts: only warnings and errors are logged (to stderr).
  const log = createLogger(config.logLevel === "silent" ? "silent" : "warn");
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl ?? (await runningEmbeddedUrl(config.dataDir));
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, log);
    url = embedded.url;
  }
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: "batchwire-keys" });
  try {
    await migrate(url, log);
    return await work(pool);
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

export function addKeysCommand(program: Command, json: () => boolean): void {
  const keys = program.command("keys").description("manage API keys in the server's database (DATABASE_URL or DATA_DIR)");
  keys
    .command("create")
    .description("print a new key for a tenant (shown once)")
    .requiredOption("--tenant <name>", "the tenant the key acts for")
    .option("--name <label>", "a label to recognise the key by")
    .action(async (options: { tenant: string; name?: string }) => {
      if (!TENANT_PATTERN.test(options.tenant)) {
        throw new UsageError(`tenant must match ${TENANT_PATTERN}: letters, digits, '.', '_', '-', at most 63`);
      }
      await withDatabase(async (pool) => {
        const { key, prefix, hash } = generateKey();
        const row = await insertApiKey(pool, { tenant: options.tenant, prefix, hash, name: options.name ?? null });
        if (json()) process.stdout.write(`${JSON.stringify({ ...view(row), key })}\n`);
        else process.stdout.write(`created API key ${row.id} for tenant "${options.tenant}"; it is shown only now, store it:\n${key}\n`);
      });
    });
  keys
    .command("list")
    .description("list keys (prefix, tenant, status; never the key)")
    .option("--tenant <name>", "only this tenant's keys")
    .action(async (options: { tenant?: string }) => {
      await withDatabase(async (pool) => {
        const rows = await listApiKeys(pool, options.tenant ?? null);
        if (json()) return void process.stdout.write(`${JSON.stringify(rows.map(view))}\n`);
        process.stdout.write(["id", "tenant", "prefix", "status", "created", "name"].join("\t") + "\n");
        for (const row of rows) process.stdout.write(describe(row) + "\n");
      });
    });
  keys
    .command("revoke")
    .description("revoke a key: requests and open sockets using it stop")
    .argument("<id>", "the key's id (see `keys list`)")
    .action(async (id: string) => {
      await withDatabase(async (pool) => {
        const row = isUuid(id) ? await revokeApiKey(pool, id) : undefined;
        if (!row) throw new UsageError(`no API key with id ${id}`);
        if (json()) process.stdout.write(`${JSON.stringify(view(row))}\n`);
        else process.stdout.write(`revoked API key ${row.id} (tenant "${row.tenant}", ${row.prefix}…)\n`);
      });
    });
}
