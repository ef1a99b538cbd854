// config.ts: the only reader of process.env; turns it into a validated, typed Config.
import { z } from "zod";

const Role = z.enum(["all", "api", "worker"]);
const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

const positiveInt = z.coerce.number().int().positive();

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
  HEARTBEAT_SECONDS: z.coerce.number().int().min(10).default(30),
  SUPERVISE_INTERVAL_SECONDS: positiveInt.default(60),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000), // 30 seconds
  TASK_KINDS_MODULE: z.string().min(1).optional(),
  DB_POOL_MAX: positiveInt.default(10),
  EVENTS_PER_SECOND: positiveInt.default(10), // per subscriber
});

export type Role = z.infer<typeof Role>;
export type LogLevel = z.infer<typeof LogLevel>;

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
  heartbeatSeconds: number;
  superviseIntervalSeconds: number;
  shutdownTimeoutMs: number;
  taskKindsModule: string | undefined;
  dbPoolMax: number;
  /** Least time between two jobProgress events to one subscriber, in ms. */
  eventIntervalMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
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
    heartbeatSeconds: e.HEARTBEAT_SECONDS,
    superviseIntervalSeconds: e.SUPERVISE_INTERVAL_SECONDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    taskKindsModule: e.TASK_KINDS_MODULE,
    dbPoolMax: e.DB_POOL_MAX,
    eventIntervalMs: Math.ceil(1_000 / e.EVENTS_PER_SECOND),
  };
}
