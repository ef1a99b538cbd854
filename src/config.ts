// config.ts: the only reader of process.env; turns it into a validated, typed Config.
import { z } from "zod";
import { isSealingKey } from "./webhooks/secrets.ts";
import { DEFAULT_RETRY_BASE_SECONDS } from "./webhooks/queue.ts";

const Role = z.enum(["all", "api", "worker"]);
const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const LogFormat = z.enum(["pretty", "json"]);

// grpc would need @grpc/grpc-js; an OpenTelemetry Collector takes both of these.
const OtlpProtocol = z.enum(["http/protobuf", "http/json"], "must be http/protobuf or http/json (grpc is not supported)");

const positiveInt = z.coerce.number().int().positive();
const flag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

const EnvSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default(".data"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HOST: z.string().min(1).default("0.0.0.0"),
  ROLE: Role.default("all"),
  NODE_ENV: z.string().default("development"),
  LOG_LEVEL: LogLevel.default("info"),
  MAX_TASKS_PER_BATCH: positiveInt.default(100_000),
  MAX_REQUEST_BYTES: positiveInt.default(64 * 1024 * 1024), // 64 MiB: a 100,000-task batch fits
  WORKER_CONCURRENCY: positiveInt.optional(), // overrides every kind's own concurrency when set
  POLL_INTERVAL_SECONDS: z.coerce.number().min(0.5).default(1),
  COMPLETION_WINDOW_SECONDS: positiveInt.max(7 * 24 * 3600).default(24 * 3600), // 24 hours, at most 7 days
  RETENTION_SECONDS: positiveInt.default(7 * 24 * 3600), // 7 days
  MAINTENANCE_INTERVAL_SECONDS: positiveInt.default(30),
  HEARTBEAT_SECONDS: z.coerce.number().int().min(10).default(30),
  SUPERVISE_INTERVAL_SECONDS: positiveInt.default(15), // with HEARTBEAT_SECONDS, bounds crash recovery
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000), // 30 seconds
  TASK_KINDS_MODULE: z.string().min(1).optional(),
  DB_POOL_MAX: positiveInt.default(10),
  EVENTS_PER_SECOND: positiveInt.default(10), // per subscriber
  // Security: see the README's Security section.
  GRAPHIQL: flag.optional(), // default: on, except in production
  DASHBOARD: flag.optional(), // default: on, except in production
  INTROSPECTION: flag.optional(), // default: on, except in production
  MAX_QUERY_DEPTH: positiveInt.default(10), // nested fields in one operation (the schema needs 8)
  MAX_QUERY_ALIASES: positiveInt.default(15),
  MAX_QUERY_TOKENS: positiveInt.default(5_000), // lexical tokens of one document (variables excluded)
  MAX_QUERY_DIRECTIVES: positiveInt.default(50),
  // The values an operation can produce (src/graphql/cost.ts): each field 1, times the page size
  // of every connection above it, from literals, variables or defaults. A page of 1,000 tasks
  // with every field costs about 24,000.
  MAX_QUERY_COST: positiveInt.default(25_000),
  MAX_RESPONSE_BYTES: positiveInt.default(4 * 1024 * 1024), // 4 MiB of task inputs and results per response
  MAX_TASK_INPUT_BYTES: positiveInt.default(1024 * 1024), // 1 MiB of JSON per task input
  MAX_METADATA_BYTES: positiveInt.default(64 * 1024), // 64 KiB of JSON per batch's metadata
  WS_MAX_PAYLOAD_BYTES: positiveInt.default(256 * 1024), // 256 KiB per WebSocket message
  WS_INIT_TIMEOUT_MS: positiveInt.default(3_000), // 3 seconds to send connection_init, and again to be authenticated
  MAX_SUBSCRIPTIONS_PER_CONNECTION: positiveInt.default(100), // operations at once on one WebSocket
  MAX_CONNECTIONS_PER_KEY: positiveInt.default(100), // WebSockets and SSE streams per API key, per API process
  AUTH_RECHECK_SECONDS: z.coerce.number().min(0.1).default(30), // how soon a revoked key's open sockets close
  // Web origins (https://app.example.com, comma-separated) whose pages may call the API from a
  // browser, over HTTP (CORS) and WebSocket. Unset: our own pages (GraphiQL) only.
  CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(",").map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url().transform((origin) => new URL(origin).origin)))
    .default([]),
  // Webhooks: see the README's Webhooks section.
  WEBHOOK_SECRET_KEY: z.string().refine(isSealingKey, "must be base64 of 32 bytes (`openssl rand -base64 32`)").optional(),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: flag.optional(), // default: off; loopback, private and link-local targets refused
  // The first retry comes base to 2 x base seconds after a failure; at most 15, so that is within 30 s.
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().int().min(1).max(15).default(DEFAULT_RETRY_BASE_SECONDS),
  // Where clients reach this service (https://batch.example.com): makes webhook resultsUrl absolute.
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  // Operations: see the README's Operations section.
  LOG_FORMAT: LogFormat.optional(), // default: pretty on a terminal in development, json elsewhere
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (`openssl rand -hex 32`)").optional(),
  // OpenTelemetry's standard variables. These decide whether tracing is on and which exporter
  // runs; the SDK and the exporter read the rest (endpoint, headers, sampler, resource) themselves.
  OTEL_SDK_DISABLED: z.string().transform((value) => value.trim().toLowerCase() === "true").optional(),
  OTEL_TRACES_EXPORTER: z
    .string()
    .transform((value) => value.trim().toLowerCase())
    .pipe(z.enum(["otlp", "console", "none"], "must be otlp, console or none (other exporters are not installed)"))
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: OtlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: OtlpProtocol.optional(),
});

export type Role = z.infer<typeof Role>;
export type LogLevel = z.infer<typeof LogLevel>;
export type LogFormat = z.infer<typeof LogFormat>;

/** Where spans go when tracing is on. */
export type TraceExporter = "otlp-proto" | "otlp-json" | "console";

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  role: Role;
  production: boolean;
  logLevel: LogLevel;
  maxTasksPerBatch: number;
  maxRequestBytes: number;
  workerConcurrency: number | undefined;
  pollIntervalSeconds: number;
  /** Default time a batch's tasks have to start (submitBatch completionWindowSeconds). */
  completionWindowSeconds: number;
  /** Default time a finished batch is kept (submitBatch retentionSeconds). */
  retentionSeconds: number;
  maintenanceIntervalSeconds: number;
  heartbeatSeconds: number;
  superviseIntervalSeconds: number;
  shutdownTimeoutMs: number;
  taskKindsModule: string | undefined;
  dbPoolMax: number;
  /** Least time between two jobProgress events to one subscriber, in ms. */
  eventIntervalMs: number;
  /** Serve GraphiQL at GET /graphql; unset: on, except in production. */
  graphiql: boolean | undefined;
  /** Serve the dashboard at /dashboard (and redirect / to it); unset: on, except in production. */
  dashboard: boolean | undefined;
  /** Answer __schema / __type queries; unset: on, except in production. */
  introspection: boolean | undefined;
  maxQueryDepth: number;
  maxQueryAliases: number;
  maxQueryTokens: number;
  maxQueryDirectives: number;
  maxQueryCost: number;
  /** Task inputs and results one response carries at most, in bytes (pages are cut short there). */
  maxResponseBytes: number;
  /** Largest JSON of one task's input, in bytes. */
  maxTaskInputBytes: number;
  /** Largest JSON of one batch's metadata, in bytes. */
  maxMetadataBytes: number;
  /** Largest WebSocket message, in bytes; a larger one closes that socket with 1009. */
  wsMaxPayloadBytes: number;
  /** Time a new WebSocket has to send connection_init and be authenticated, in ms. */
  wsInitTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  maxConnectionsPerKey: number;
  /** How often open sockets and streams check that their API key is still valid, in ms. */
  authRecheckMs: number;
  /** Origins whose browser pages may call the API (CORS and WebSocket Origin); none: same origin only. */
  corsOrigins: string[];
  /** WEBHOOK_SECRET_KEY: base64 of the 32-byte key that seals webhook secrets; unset: see webhooks/secrets.ts. */
  webhookSecretKey: string | undefined;
  /** Let webhooks reach loopback, private, link-local and the other special-purpose addresses. */
  webhookAllowPrivateNetworks: boolean;
  /** Base of the webhook retry backoff, in seconds (the first retry after base to 2 x base). */
  webhookRetryBaseSeconds: number;
  /** The service's public URL, for absolute links in webhook payloads; unset: paths. */
  publicBaseUrl: string | undefined;
  /** pretty: readable lines through pino-pretty; json: one JSON object a line. */
  logFormat: LogFormat;
  /** The bearer token GET /metrics asks for; unset: open in development, 404 in production. */
  metricsToken: string | undefined;
  /** Tracing's exporter, chosen by the OTEL_* variables; undefined: tracing is off. */
  traceExporter: TraceExporter | undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Tracing is on when OTEL_TRACES_EXPORTER names an exporter, or when an OTLP endpoint is set
 * (the exporter then defaults to otlp, as OpenTelemetry's SDKs do); OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn it off. With none of these set it is off.
 */
function traceExporter(e: z.infer<typeof EnvSchema>): TraceExporter | undefined {
  if (e.OTEL_SDK_DISABLED) return undefined;
  const exporter = e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? "otlp" : "none");
  if (exporter === "none") return undefined;
  if (exporter === "console") return "console";
  const protocol = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf";
  return protocol === "http/json" ? "otlp-json" : "otlp-proto";
}

/**
 * Reads the environment once; throws a ConfigError naming every bad variable. `isTerminal` (is
 * stdout a terminal?) picks the default log format.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, isTerminal = process.stdout.isTTY === true): Config {
  // An empty variable means "unset", as in most twelve-factor apps.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    port: e.PORT,
    host: e.HOST,
    role: e.ROLE,
    production: e.NODE_ENV === "production",
    logLevel: e.LOG_LEVEL,
    maxTasksPerBatch: e.MAX_TASKS_PER_BATCH,
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    workerConcurrency: e.WORKER_CONCURRENCY,
    pollIntervalSeconds: e.POLL_INTERVAL_SECONDS,
    completionWindowSeconds: e.COMPLETION_WINDOW_SECONDS,
    retentionSeconds: e.RETENTION_SECONDS,
    maintenanceIntervalSeconds: e.MAINTENANCE_INTERVAL_SECONDS,
    heartbeatSeconds: e.HEARTBEAT_SECONDS,
    superviseIntervalSeconds: e.SUPERVISE_INTERVAL_SECONDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    taskKindsModule: e.TASK_KINDS_MODULE,
    dbPoolMax: e.DB_POOL_MAX,
    eventIntervalMs: Math.ceil(1_000 / e.EVENTS_PER_SECOND),
    graphiql: e.GRAPHIQL,
    dashboard: e.DASHBOARD,
    introspection: e.INTROSPECTION,
    maxQueryDepth: e.MAX_QUERY_DEPTH,
    maxQueryAliases: e.MAX_QUERY_ALIASES,
    maxQueryTokens: e.MAX_QUERY_TOKENS,
    maxQueryDirectives: e.MAX_QUERY_DIRECTIVES,
    maxQueryCost: e.MAX_QUERY_COST,
    maxResponseBytes: e.MAX_RESPONSE_BYTES,
    maxTaskInputBytes: e.MAX_TASK_INPUT_BYTES,
    maxMetadataBytes: e.MAX_METADATA_BYTES,
    wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
    wsInitTimeoutMs: e.WS_INIT_TIMEOUT_MS,
    maxSubscriptionsPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxConnectionsPerKey: e.MAX_CONNECTIONS_PER_KEY,
    authRecheckMs: Math.round(e.AUTH_RECHECK_SECONDS * 1_000),
    corsOrigins: e.CORS_ORIGINS,
    webhookSecretKey: e.WEBHOOK_SECRET_KEY,
    webhookAllowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? false,
    webhookRetryBaseSeconds: e.WEBHOOK_RETRY_BASE_SECONDS,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    logFormat: e.LOG_FORMAT ?? (e.NODE_ENV !== "production" && isTerminal ? "pretty" : "json"),
    metricsToken: e.METRICS_TOKEN,
    traceExporter: traceExporter(e),
  };
}
