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

describe("operations settings", () => {
  it("logs pretty lines on a terminal in development, JSON when piped or in production, or as LOG_FORMAT says", () => {
    expect(loadConfig({}, true).logFormat).toBe("pretty");
    expect(loadConfig({}, false).logFormat).toBe("json");
    expect(loadConfig({ NODE_ENV: "production" }, true).logFormat).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "pretty" }, false).logFormat).toBe("pretty");
    expect(loadConfig({ LOG_FORMAT: "json" }, true).logFormat).toBe("json");
    expect(() => loadConfig({ LOG_FORMAT: "xml" })).toThrow(/LOG_FORMAT/);
  });

  it("takes a METRICS_TOKEN of 16 characters or more", () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: "0123456789abcdef" }).metricsToken).toBe("0123456789abcdef");
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
  });

  it("turns tracing on from the standard OTEL_* variables only, and leaves it off when none is set", () => {
    expect(loadConfig({}).traceExporter).toBeUndefined();
    expect(loadConfig({ OTEL_SERVICE_NAME: "batchwire" }).traceExporter).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }).traceExporter).toBe("otlp-proto");
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" }).traceExporter).toBe("otlp-proto");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "otlp" }).traceExporter).toBe("otlp-proto");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).traceExporter).toBe("otlp-json");
    expect(
      loadConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }).traceExporter,
    ).toBe("otlp-proto");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "console" }).traceExporter).toBe("console");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }).traceExporter).toBeUndefined();
    expect(loadConfig({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }).traceExporter).toBeUndefined();
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/grpc is not supported/);
  });
});
