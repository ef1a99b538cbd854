// globalSetup.ts: starts the test run's PostgreSQL (embedded unless TEST_DATABASE_URL is set) and
// prepares a migrated template database that every test file clones.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createLogger } from "../../src/logger.ts";

declare module "vitest" {
  export interface ProvidedContext {
    serverUrl: string;
    templateDatabase: string;
  }
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export default async function setup(project: TestProject) {
  const log = createLogger("warn");
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    dataDir = await mkdtemp(join(tmpdir(), "batchwire-test-"));
    const { chmod } = await import("node:fs/promises");
    await chmod(dataDir, 0o755);
    embedded = await startEmbeddedPostgres(dataDir, log);
    serverUrl = embedded.url;
  }
  // Unique per run, so two runs on one server never collide.
  const template = `batchwire_tmpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${template}`);
  await migrate(databaseUrl(serverUrl, template), log);
  project.provide("serverUrl", serverUrl);
  project.provide("templateDatabase", template);

  return async () => {
    // Databases a crashed file left behind go with the template.
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`${template.replace("tmpl", "t")}%`, template],
    );
    for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
    await admin.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
