// app.ts: createBatchwire assembles one process's roles from a Config and owns their lifetimes.
import type { Server } from "node:http";
import { PgBoss } from "pg-boss";
import { Authenticator } from "./auth/authenticator.ts";
import { SessionRegistry } from "./auth/sessions.ts";
import { loadConfig, type Config } from "./config.ts";
import { createDashboard } from "./dashboard/serve.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./db/embedded.ts";
import { migrate } from "./db/migrate.ts";
import { DatabaseOutage } from "./db/outage.ts";
import { createPool, type Pool } from "./db/pool.ts";
import { JobStatistics } from "./db/statistics.ts";
import { EventHub } from "./events/hub.ts";
import { ProgressFeeds } from "./events/progressStream.ts";
import { createClientLog } from "./clientLog.ts";
import { TenantFeeds } from "./events/tenantFeed.ts";
import { createLogger, type Logger } from "./logger.ts";
import { Metrics } from "./observability/metrics.ts";
import { createMetricsRoute } from "./observability/metricsRoute.ts";
import { taskBacklog } from "./observability/taskBacklog.ts";
import { createHttpServer, listen } from "./server/http.ts";
import { expectedMigrations, Readiness } from "./server/readiness.ts";
import { createResultsRoute } from "./server/results.ts";
import { attachWebSocket, type WebSocketHandle } from "./server/ws.ts";
import { createBatchwireYoga } from "./server/yoga.ts";
import type { AnyTaskKind } from "./worker/kind.ts";
import { ensureQueues } from "./worker/queues.ts";
import { createRegistry, type KindRegistry } from "./worker/registry.ts";
import { startWorkers, type RunningWorkers } from "./worker/runner.ts";
import { startMaintenance, type Maintenance } from "./worker/maintenance.ts";
import { setUpWebhooks, type Webhooks } from "./webhooks/runtime.ts";

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
  /** This app's Prometheus metrics (GET /metrics); its registry takes metrics of your own too. */
  readonly metrics: Metrics;
}

export function createBatchwire(options: BatchwireOptions = {}): Batchwire {
  const config: Config = { ...loadConfig(), ...options.config };
  const log = options.logger ?? createLogger(config.logLevel, config.logFormat);
  const metrics = new Metrics();
  // Components log through `quiet`: a database outage is told once, not by each failed query.
  const outage = new DatabaseOutage(() => pool!.query("select 1"), log);
  const quiet = outage.logger(log);
  const clientLog = createClientLog(quiet);
  const serveApi = config.role === "all" || config.role === "api";
  const runWorkers = config.role === "all" || config.role === "worker";

  let embedded: EmbeddedDatabase | undefined;
  let pool: Pool | undefined;
  let boss: PgBoss | undefined;
  let hub: EventHub | undefined;
  let server: Server | undefined;
  let ws: WebSocketHandle | undefined;
  let sessions: SessionRegistry | undefined;
  let workers: RunningWorkers | undefined;
  let maintenance: Maintenance | undefined;
  let registry: KindRegistry | undefined;
  let statistics: JobStatistics | undefined;
  let readiness: Readiness | undefined;
  let webhooks: Webhooks | undefined;
  let databaseUrl = "";
  let port = 0;
  let ready = false;
  let stopping = false;

  async function start(): Promise<void> {
    if (config.databaseUrl) databaseUrl = config.databaseUrl;
    else {
      embedded = await startEmbeddedPostgres(config.dataDir, log);
      databaseUrl = embedded.url;
    }
    await migrate(databaseUrl, log);
    pool = createPool(databaseUrl, config.dbPoolMax, quiet);
    registry = await createRegistry(options.kinds ?? [], config.taskKindsModule);
    const kindNames = registry.all().map((kind) => kind.name);
    const ours = pool;
    metrics.observePool("batchwire", () => ({ max: config.dbPoolMax, total: ours.totalCount, idle: ours.idleCount, waiting: ours.waitingCount }));
    metrics.observeBacklog(taskBacklog(pool, () => kindNames, quiet));

    boss = new PgBoss({
      connectionString: databaseUrl,
      application_name: `batchwire-${config.role}`,
      useListenNotify: true,
      // Expired claims and missed heartbeats are found by pg-boss's monitor pass: run it as often
      // as supervision, so a killed worker's tasks run again within heartbeat + this interval.
      superviseIntervalSeconds: config.superviseIntervalSeconds,
      monitorIntervalSeconds: config.superviseIntervalSeconds,
      schedule: false,
      max: config.dbPoolMax,
    });
    boss.on("error", (error) => quiet.warn({ err: error }, "pg-boss error"));
    await boss.start();
    const bossDatabase = boss.getDb();
    metrics.observePool("pgboss", () => bossDatabase.poolCounts?.() ?? null);
    // Dead-lettered jobs stay redrivable for as long as a finished batch may be kept.
    await ensureQueues(boss, registry.all(), config.heartbeatSeconds, config.completionWindowSeconds + config.retentionSeconds);
    webhooks = await setUpWebhooks({ pool, boss, log: quiet, config });

    // API processes fan batch changes out to subscribers; workers hear cancellations through it.
    hub = new EventHub(pool, databaseUrl, quiet);
    await hub.start();
    statistics = new JobStatistics(pool, quiet);
    const listening = hub;
    readiness = new Readiness({ pool, listening: serveApi ? () => listening.connected : undefined }, await expectedMigrations());
    const auth = new Authenticator(pool, { production: config.production });
    if (serveApi) {
      sessions = new SessionRegistry(auth, { maxPerKey: config.maxConnectionsPerKey, recheckMs: config.authRecheckMs, log: quiet });
      sessions.start();
      if (!(await auth.keysExist())) {
        log.warn(
          config.production
            ? "production mode and no API key exists: every request is refused until one is created (`npm run keys -- create --tenant NAME`)"
            : "no API key exists: the API is open to anyone as tenant \"default\" until one is created (`npm run keys -- create --tenant NAME`)",
        );
      }
    }
    const yoga = serveApi
      ? createBatchwireYoga({
          auth,
          sessions: sessions!,
          graphiql: config.graphiql ?? !config.production,
          maxConnectionsPerKey: config.maxConnectionsPerKey,
          streamReservationTimeoutMs: config.wsInitTimeoutMs,
          corsOrigins: config.corsOrigins,
          maxRequestBytes: config.maxRequestBytes,
          limits: {
            maxQueryDepth: config.maxQueryDepth,
            maxQueryAliases: config.maxQueryAliases,
            maxQueryTokens: config.maxQueryTokens,
            maxQueryDirectives: config.maxQueryDirectives,
            maxQueryCost: config.maxQueryCost,
            introspection: config.introspection ?? !config.production,
          },
          hideSuggestions: config.production,
          clientLog,
          services: {
            pool,
            boss,
            kinds: registry,
            statistics,
            progress: new ProgressFeeds(hub, { minIntervalMs: config.eventIntervalMs }),
            batchUpdates: new TenantFeeds(hub, { minIntervalMs: config.eventIntervalMs }),
            maxTasksPerBatch: config.maxTasksPerBatch,
            maxTaskInputBytes: config.maxTaskInputBytes,
            maxMetadataBytes: config.maxMetadataBytes,
            maxResponseBytes: config.maxResponseBytes,
            completionWindowSeconds: config.completionWindowSeconds,
            retentionSeconds: config.retentionSeconds,
            webhooks: webhooks.services,
            metrics,
          },
          log: quiet,
          metrics,
        })
      : undefined;
    const dashboard = yoga && (config.dashboard ?? !config.production) ? createDashboard({ keysRequired: async () => !(await auth.isOpen()) }) : undefined;
    server = createHttpServer({
      yoga,
      auth,
      maxRequestBytes: config.maxRequestBytes,
      isReady: () => ready,
      readiness: () => (ready && readiness ? readiness.check() : Promise.resolve({ ready: false, reason: stopping ? "stopping" : "starting" })),
      role: config.role,
      dashboard,
      results: yoga && createResultsRoute({ pool, auth, log: quiet }),
      rootRedirect: yoga && (config.graphiql ?? !config.production) ? yoga.graphqlEndpoint : undefined,
      metrics: createMetricsRoute({ metrics, production: config.production, token: config.metricsToken, log: quiet }),
      clientLog,
    });
    // Listening first: a port in use fails here, before a WebSocket server is attached to re-emit
    // the error (graphql-ws would print it as an "Internal error").
    port = await listen(server, config.port, config.host);
    if (yoga) {
      ws = attachWebSocket(server, yoga, {
        auth,
        sessions: sessions!,
        log: quiet,
        clientLog,
        production: config.production,
        maxPayloadBytes: config.wsMaxPayloadBytes,
        initTimeoutMs: config.wsInitTimeoutMs,
        maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
        maxConnectionsPerKey: config.maxConnectionsPerKey,
        corsOrigins: config.corsOrigins,
      });
    }

    if (runWorkers) {
      workers = await startWorkers({
        pool,
        boss,
        kinds: registry,
        log: quiet,
        events: hub,
        concurrency: config.workerConcurrency,
        pollIntervalSeconds: config.pollIntervalSeconds,
      });
      for (const kind of registry.all()) metrics.workerSlots(kind.name, config.workerConcurrency ?? kind.policy.concurrency);
      await webhooks.startDelivery({ onOutcome: (outcome) => metrics.webhookAttempt(outcome) });
      maintenance = startMaintenance({
        pool,
        boss,
        log: quiet,
        intervalMs: config.maintenanceIntervalSeconds * 1000,
        // pg-boss expires an attempt 60 s after its kind's timeout; give it that and a margin.
        stuckAfterSeconds: new Map(
          registry.all().map((kind) => [kind.name, kind.policy.timeoutSeconds + 60 + 2 * config.heartbeatSeconds + config.superviseIntervalSeconds]),
        ),
      });
    }
    ready = true;
    const where = { port, role: config.role, embedded: embedded !== undefined };
    if (serveApi) log.info(where, `batchwire ready on http://localhost:${port}/graphql`);
    else log.info(where, `batchwire worker ready; health at http://localhost:${port}/healthz`);
  }

  async function stop(): Promise<void> {
    ready = false;
    stopping = true;
    outage.stop();
    // Close the door first: no new requests or sockets, then let the work in hand finish.
    const closing = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    sessions?.stop();
    await ws?.close();
    await webhooks?.stop();
    await boss?.stop({ graceful: true, timeout: config.shutdownTimeoutMs, close: true });
    await maintenance?.stop();
    await workers?.stop();
    if (workers) for (const kind of registry?.all() ?? []) metrics.workerSlots(kind.name, 0);
    await hub?.stop();
    await statistics?.stop();
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
    metrics,
    get kinds() {
      if (!registry) throw new Error("kinds are loaded by start()");
      return registry;
    },
  };
}
