// keys.ts: `npm run keys -- create --tenant NAME [--name LABEL]`, `list [--tenant NAME]`,
// `revoke ID`: manages API keys in the database batchwire uses (DATABASE_URL, or the embedded
// cluster in DATA_DIR: the running one, else started for the command). A new key is printed once,
// alone on the last line of output; only its SHA-256 is stored.
import { parseArgs } from "node:util";
import pg from "pg";
import { generateKey, TENANT_PATTERN } from "../src/auth/apiKeys.ts";
import { insertApiKey } from "../src/auth/sql/insertApiKey.ts";
import { listApiKeys, type ApiKeyRow } from "../src/auth/sql/listApiKeys.ts";
import { revokeApiKey } from "../src/auth/sql/revokeApiKey.ts";
import { isUuid } from "../src/batches/rows.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { runningEmbeddedUrl, startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded.ts";
import { migrate } from "../src/db/migrate.ts";
import { createLogger } from "../src/logger.ts";

const USAGE = `usage:
  npm run keys -- create --tenant NAME [--name LABEL]   print a new key for tenant NAME (shown once)
  npm run keys -- list [--tenant NAME]                  list keys (prefix, tenant, status; never the key)
  npm run keys -- revoke ID                             revoke a key: requests and open sockets using it stop
`;

class UsageError extends Error {}

function describe(key: ApiKeyRow): string {
  const status = key.revoked_at ? `revoked ${key.revoked_at.toISOString()}` : "active";
  return [key.id, key.tenant, `${key.prefix}…`, status, key.created_at.toISOString(), key.name ?? ""].join("\t");
}

async function run(pool: pg.Pool, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: "string" }, name: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case "create": {
      const tenant = values.tenant;
      if (!tenant) throw new UsageError("create needs --tenant NAME");
      if (!TENANT_PATTERN.test(tenant)) throw new UsageError(`tenant must match ${TENANT_PATTERN}: letters, digits, '.', '_', '-', at most 63`);
      const { key, prefix, hash } = generateKey();
      const row = await insertApiKey(pool, { tenant, prefix, hash, name: values.name ?? null });
      process.stdout.write(`created API key ${row.id} for tenant "${tenant}"; it is shown only now, store it:\n${key}\n`);
      return;
    }
    case "list": {
      const keys = await listApiKeys(pool, values.tenant ?? null);
      process.stdout.write(["id", "tenant", "prefix", "status", "created", "name"].join("\t") + "\n");
      for (const key of keys) process.stdout.write(describe(key) + "\n");
      return;
    }
    case "revoke": {
      const id = rest[0];
      if (!id) throw new UsageError("revoke needs the key's id (see `list`)");
      const row = isUuid(id) ? await revokeApiKey(pool, id) : undefined;
      if (!row) throw new UsageError(`no API key with id ${id}`);
      process.stdout.write(`revoked API key ${row.id} (tenant "${row.tenant}", ${row.prefix}…)\n`);
      return;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : "a command is needed");
  }
}

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`keys: ${error.message}\n`);
    return 1;
  }
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
    await run(pool, process.argv.slice(2));
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`keys: ${error.message}\n\n${USAGE}`);
    return 2;
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

process.exitCode = await main();
