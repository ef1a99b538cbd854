// config.test.ts: configuration is validated in one place; a bad value stops the start, naming it.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { runProcess } from "./helpers/process.ts";

describe("loadConfig", () => {
  it("applies documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: ".data",
      port: 4000,
      role: "all",
      production: false,
      maxTasksPerBatch: 100_000,
      heartbeatSeconds: 30,
      eventIntervalMs: 100,
    });
  });

  it("names every bad variable", () => {
    expect(() => loadConfig({ PORT: "eighty", ROLE: "boss", HEARTBEAT_SECONDS: "5" })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: "eighty", ROLE: "boss", HEARTBEAT_SECONDS: "5" });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain("PORT");
      expect(message).toContain("ROLE");
      expect(message).toContain("HEARTBEAT_SECONDS");
    }
  });

  it("reads production mode, roles and limits", () => {
    const config = loadConfig({ NODE_ENV: "production", ROLE: "worker", MAX_TASKS_PER_BATCH: "10", DATABASE_URL: "postgres://u@h/db" });
    expect(config).toMatchObject({ production: true, role: "worker", maxTasksPerBatch: 10, databaseUrl: "postgres://u@h/db" });
  });
});

it("a bad value stops `npm start` with a message naming the variable", async () => {
  const { code, output } = await runProcess({ MAX_TASKS_PER_BATCH: "-3" });
  expect(code).toBe(1);
  expect(output).toContain("MAX_TASKS_PER_BATCH");
});

describe("security settings", () => {
  it("default to the documented limits, with GraphiQL and introspection following the mode", () => {
    expect(loadConfig({})).toMatchObject({
      graphiql: undefined,
      introspection: undefined,
      maxQueryDepth: 10,
      maxQueryAliases: 15,
      maxQueryTokens: 5_000,
      maxQueryDirectives: 50,
      maxQueryCost: 25_000,
      maxResponseBytes: 4 * 1024 * 1024,
      maxTaskInputBytes: 1024 * 1024,
      maxMetadataBytes: 64 * 1024,
      wsMaxPayloadBytes: 256 * 1024,
      wsInitTimeoutMs: 3_000,
      maxSubscriptionsPerConnection: 100,
      maxConnectionsPerKey: 100,
      authRecheckMs: 30_000,
    });
  });

  it("reads GRAPHIQL and INTROSPECTION as booleans and names a bad one", () => {
    expect(loadConfig({ NODE_ENV: "production", GRAPHIQL: "true", INTROSPECTION: "0" })).toMatchObject({ graphiql: true, introspection: false });
    expect(() => loadConfig({ GRAPHIQL: "sometimes" })).toThrow(/GRAPHIQL/);
  });

  it("reads DASHBOARD as a boolean, unset unless given (the mode decides), and names a bad one", () => {
    expect(loadConfig({}).dashboard).toBeUndefined();
    expect(loadConfig({ NODE_ENV: "production", DASHBOARD: "true" }).dashboard).toBe(true);
    expect(loadConfig({ DASHBOARD: "0" }).dashboard).toBe(false);
    expect(() => loadConfig({ DASHBOARD: "maybe" })).toThrow(/DASHBOARD/);
  });
});
