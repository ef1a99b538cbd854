// migrate.test.ts: processes that start together on one database migrate it once, without failing.
import { afterAll, beforeAll, expect, it } from "vitest";
import pg from "pg";
import { inject } from "vitest";
import { readdirSync } from "node:fs";
import { migrate, MIGRATIONS_DIR } from "../src/db/migrate.ts";
import { createLogger } from "../src/logger.ts";
import { databaseUrl } from "./helpers/globalSetup.ts";

const name = `batchwire_migrate_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject("serverUrl") });
  await admin.connect();
  await admin.query(`create database ${name}`);
});

afterAll(async () => {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

it("runs every migration once when four migrators race on an empty database", async () => {
  const url = databaseUrl(inject("serverUrl"), name);
  const log = createLogger("silent");
  await Promise.all(Array.from({ length: 4 }, () => migrate(url, log)));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`select name from batchwire_migrations order by id`);
    // Every file of migrations/, once each, in order.
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort().map((f) => f.replace(/\.sql$/, ""));
    expect(files.slice(0, 4)).toEqual(["0001_batches_and_tasks", "0002_lifecycle", "0003_api_keys", "0004_leaner_task_indexes"]);
    expect(rows.map((r) => r.name)).toEqual(files);
  } finally {
    await client.end();
  }
});
