// app.ts: createBatchwire assembles one process's roles from a Config and owns their lifetimes.
import type { Server } from "node:http";
import { PgBoss } from "pg-boss";
import { loadConfig, type Config } from "./config.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./db/embedded.ts";
import { migrate } from "./db/migrate.ts";
import { createPool, type Pool } from "./db/pool.ts";
import { EventHub } from "./events/hub.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createHttpServer, listen } from "./server/http.ts";
import { attachWebSocket, type WebSocketHandle } from "./server/ws.ts";
import { createBatchwireYoga } from "./server/yoga.ts";
import type { AnyTaskKind } from "./worker/kind.ts";
import { ensureQueues } from "./worker/queues.ts";
import { createRegistry, type KindRegistry } from "./worker/registry.ts";
import { startWorkers, type RunningWorkers } from "./worker/runner.ts";

export interface BatchwireOptions {
  /** Settings; anything left out is read from the environment. */
  config?: Partial<Config>;
  /** Task kinds of your own, beside the built-ins (and TASK_KINDS_MODULE's). */
  kinds?: AnyTaskKind[];
  logger?: Logger;
}

export interface Batchwire {
  readonly config: Config;
  readonly log: Logger;
  /** Starts the configured roles; resolves once the server answers /healthz with 200. */
  start(): Promise<void>;
  /** Stops accepting work, lets in-flight tasks finish (bounded), and releases everything. */
  stop(): Promise<void>;
  /** The port the HTTP server listens on (after start). */
  readonly port: number;
  /** The database URL in use (after start); the embedded one when DATABASE_URL is unset. */
  readonly databaseUrl: string;
  readonly kinds: KindRegistry;
}

export function createBatchwire(options: BatchwireOptions = {}): Batchwire {
  const config: Config = { ...loadConfig(), ...options.config };
  const log = options.logger ?? createLogger(config.logLevel);
  const serveApi = config.role === "all" || config.role === "api";
  const runWorkers = config.role === "all" || config.role === "worker";

  let embedded: EmbeddedDatabase | undefined;
  let pool: Pool | undefined;
  let boss: PgBoss | undefined;
  let hub: EventHub | undefined;
  let server: Server | undefined;
  let ws: WebSocketHandle | undefined;
  let workers: RunningWorkers | undefined;
  let registry: KindRegistry | undefined;
  let databaseUrl = "";
  let port = 0;
  let ready = false;

  async function start(): Promise<void> {
    if (config.databaseUrl) databaseUrl = config.databaseUrl;
    else {
      embedded = await startEmbeddedPostgres(config.dataDir, log);
      databaseUrl = embedded.url;
    }
    await migrate(databaseUrl, log);
    pool = createPool(databaseUrl, config.dbPoolMax, log);
    registry = await createRegistry(options.kinds ?? [], config.taskKindsModule);

    boss = new PgBoss({
      connectionString: databaseUrl,
      application_name: `batchwire-${config.role}`,
      useListenNotify: true,
      superviseIntervalSeconds: config.superviseIntervalSeconds,
      schedule: false,
      max: config.dbPoolMax,
    });
    boss.on("error", (error) => log.warn({ err: error }, "pg-boss error"));
    await boss.start();
    await ensureQueues(boss, registry.all(), config.heartbeatSeconds);

    if (serveApi) {
      hub = new EventHub(pool, databaseUrl, log);
      await hub.start();
    }
    const yoga = serveApi
      ? createBatchwireYoga({
          services: { pool, boss, kinds: registry, events: hub!, maxTasksPerBatch: config.maxTasksPerBatch, eventIntervalMs: config.eventIntervalMs },
          log,
          production: config.production,
        })
      : undefined;
    server = createHttpServer({ yoga, maxRequestBytes: config.maxRequestBytes, isReady: () => ready, role: config.role });
    if (yoga) ws = attachWebSocket(server, yoga);
    port = await listen(server, config.port, config.host);

    if (runWorkers) {
      workers = await startWorkers({ pool, boss, kinds: registry, log, concurrency: config.workerConcurrency, pollIntervalSeconds: config.pollIntervalSeconds });
    }
    ready = true;
    log.info({ port, role: config.role, embedded: embedded !== undefined }, `batchwire ready on http://localhost:${port}/graphql`);
  }

  async function stop(): Promise<void> {
    ready = false;
    // Close the door first: no new requests or sockets, then let the work in hand finish.
    const closing = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    await ws?.close();
    await boss?.stop({ graceful: true, timeout: config.shutdownTimeoutMs, close: true });
    await workers?.stop();
    await hub?.stop();
    server?.closeAllConnections();
    await closing;
    await pool?.end();
    await embedded?.stop();
    log.info("batchwire stopped");
  }

  return {
    config,
    log,
    start,
    stop,
    get port() {
      return port;
    },
    get databaseUrl() {
      return databaseUrl;
    },
    get kinds() {
      if (!registry) throw new Error("kinds are loaded by start()");
      return registry;
    },
  };
}
