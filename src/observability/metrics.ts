// metrics.ts: every Prometheus metric batchwire exports, declared once with its help text and
// bounded labels (kinds, statuses, outcomes, never ids), and the small typed functions the code
// that observes them calls. One Metrics per app; Node's process metrics are shared by the process.
import { createCounter, createHistogram, type FillLabelsFnParams } from "@graphql-yoga/plugin-prometheus";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AttemptOutcome as WebhookOutcome } from "../webhooks/deliver.ts";

/** The statuses a task ends in, as batchwire_tasks_finished_total labels them. */
export type FinishedTaskStatus = "SUCCEEDED" | "FAILED" | "CANCELED" | "EXPIRED";

/**
 * What one run of a handler came to: succeeded; retrying (it failed or timed out and will run
 * again); failed (it failed with no retries left); canceled (its batch was canceled while it ran);
 * interrupted (the worker shut down or lost the job; pg-boss runs it again).
 */
export type TaskAttemptOutcome = "succeeded" | "retrying" | "failed" | "canceled" | "interrupted";

/** The statuses batchwire_tasks counts: the tasks still waiting or running. */
export const BACKLOG_STATUSES = ["QUEUED", "RUNNING", "RETRYING"] as const;
export type BacklogStatus = (typeof BACKLOG_STATUSES)[number];

/**
 * How a subscriber is connected: graphql-ws over WebSocket, yoga's own streams over HTTP (SSE), or
 * the graphql-sse protocol at /graphql/stream.
 */
export type SubscriptionTransport = "ws" | "sse" | "graphql-sse";

export type { WebhookOutcome };

export type PoolName = "batchwire" | "pgboss";

/** A connection pool's size and use at one moment (node-postgres's counts). */
export interface PoolCounts {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/** The cluster-wide task backlog, as one read of the database gives it. */
export interface Backlog {
  /** One entry per (kind, status), zeros included, so series never vanish while a kind exists. */
  tasks: { kind: string; status: BacklogStatus; count: number }[];
  /** Per kind: seconds since the oldest QUEUED task was submitted; 0 when none waits. */
  oldestQueuedAgeSeconds: { kind: string; seconds: number }[];
}

// Handlers run from milliseconds (echo) to an hour (a kind's timeout may be that long).
const TASK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
// Submit to first start: a fraction of a second on an idle cluster, hours behind a large backlog.
const TASK_QUEUE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400];
const GRAPHQL_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Operation names are chosen by clients: the first this many distinct ones get a label value of
 * their own, later ones are counted as "other", so no client can grow the series without bound.
 */
const MAX_OPERATION_NAMES = 100;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

type OperationLabel = "operation_type" | "operation_name";
type GraphQLPhase = "parse" | "validate" | "context" | "execute" | "subscribe";

let processRegistry: Registry | undefined;

/** Node's default metrics (CPU, memory, event loop lag, GC, handles), registered once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #operationNames = new Set<string>();
  #backlog: (() => Promise<Backlog | undefined>) | undefined;
  readonly #pools = new Map<PoolName, () => PoolCounts | null>();

  // Tasks. Fed by the lifecycle core (one call per commit, with how many tasks moved).
  readonly #tasksFinished = new Counter({
    name: "batchwire_tasks_finished_total",
    help: "Tasks that reached a final status (SUCCEEDED, FAILED, CANCELED, EXPIRED), by kind.",
    labelNames: ["kind", "status"] as const,
    registers: [this.registry],
  });
  readonly #taskAttempts = new Counter({
    name: "batchwire_task_attempts_total",
    help: "Handler runs by kind and outcome: succeeded, retrying (failed, will run again), failed (no retries left), canceled, interrupted.",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #taskDuration = new Histogram({
    name: "batchwire_task_duration_seconds",
    help: "How long one handler run took, by kind.",
    labelNames: ["kind"] as const,
    buckets: TASK_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly #taskQueue = new Histogram({
    name: "batchwire_task_queue_seconds",
    help: "How long a task waited from its batch's submit to its first start, by kind.",
    labelNames: ["kind"] as const,
    buckets: TASK_QUEUE_BUCKETS,
    registers: [this.registry],
  });

  // Connection pools.
  readonly #poolConnections = new Gauge({
    name: "batchwire_db_pool_connections",
    help: "Open PostgreSQL connections of a pool (batchwire: ours; pgboss: pg-boss's), by state (idle, in_use).",
    labelNames: ["pool", "state"] as const,
    registers: [this.registry],
    // Sets the two gauges below as well: collected in registration order, before they are read, and
    // before the backlog gauges' query takes a connection of its own.
    collect: () => this.#collectPools(),
  });
  readonly #poolMax = new Gauge({
    name: "batchwire_db_pool_max_connections",
    help: "The most connections a pool opens.",
    labelNames: ["pool"] as const,
    registers: [this.registry],
  });
  readonly #poolWaiting = new Gauge({
    name: "batchwire_db_pool_waiting_requests",
    help: "Queries waiting for a free connection of a pool.",
    labelNames: ["pool"] as const,
    registers: [this.registry],
  });

  // The cluster-wide backlog, read from the database at scrape (the same value from every process).
  readonly #tasks = new Gauge({
    name: "batchwire_tasks",
    help: "Tasks waiting or running in the whole cluster (QUEUED, RUNNING, RETRYING), by kind; every process reports the same value.",
    labelNames: ["kind", "status"] as const,
    registers: [this.registry],
    collect: async () => {
      const backlog = await this.#backlog?.();
      this.#tasks.reset();
      for (const { kind, status, count } of backlog?.tasks ?? []) this.#tasks.set({ kind, status }, count);
    },
  });
  readonly #oldestQueuedAge = new Gauge({
    name: "batchwire_oldest_queued_task_age_seconds",
    help: "Seconds since the oldest QUEUED task of a kind was submitted (0 when none waits); every process reports the same value.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
    // Gauges are collected side by side: each reads the backlog, which one query per scrape serves.
    collect: async () => {
      const backlog = await this.#backlog?.();
      this.#oldestQueuedAge.reset();
      for (const { kind, seconds } of backlog?.oldestQueuedAgeSeconds ?? []) this.#oldestQueuedAge.set({ kind }, seconds);
    },
  });

  // This process's workers.
  readonly #workerSlots = new Gauge({
    name: "batchwire_worker_slots",
    help: "Tasks of a kind this process can run at once (0 or absent: it runs none).",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  // API: batches, subscriptions, events.
  readonly #batchesSubmitted = new Counter({
    name: "batchwire_batches_submitted_total",
    help: "Batches accepted by submitBatch and submitBatchFile (a replayed idempotency key counts again).",
    registers: [this.registry],
  });
  readonly #subscriptions = new Gauge({
    name: "batchwire_subscriptions",
    help: "GraphQL subscriptions open on this process, by transport (ws: graphql-ws; sse: yoga's Server-Sent Events; graphql-sse: the graphql-sse protocol).",
    labelNames: ["transport"] as const,
    registers: [this.registry],
  });
  readonly #eventsSent = new Counter({
    name: "batchwire_events_sent_total",
    help: "Subscription events (jobProgress, batchUpdates) sent to subscribers by this process.",
    registers: [this.registry],
  });

  // Webhooks.
  readonly #webhookDeliveries = new Counter({
    name: "batchwire_webhook_deliveries_total",
    help: "Webhook delivery attempts by outcome: succeeded, retrying (failed, will be retried), failed (no attempts left), refused (address policy), skipped (stale job).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  /**
   * GraphQL operations, for @graphql-yoga/plugin-prometheus (the yoga/envelop plugin fills them;
   * its other metrics are off). Labels: operation_type and operation_name (bounded, see above).
   */
  readonly graphql = {
    operations: createCounter<"execute" | "subscribe", OperationLabel>({
      registry: this.registry,
      counter: {
        name: "batchwire_graphql_operations_total",
        help: "GraphQL operations executed (a subscription counts once, when it starts), by type and operation name.",
        labelNames: ["operation_type", "operation_name"],
      },
      fillLabelsFn: (params) => this.#operationLabels(params),
    }),
    duration: createHistogram<"execute" | "subscribe", OperationLabel>({
      registry: this.registry,
      histogram: {
        name: "batchwire_graphql_operation_duration_seconds",
        help: "Time to execute a GraphQL operation (a subscription: to set it up), by type and operation name.",
        labelNames: ["operation_type", "operation_name"],
        buckets: GRAPHQL_DURATION_BUCKETS,
      },
      fillLabelsFn: (params) => this.#operationLabels(params),
    }),
    errors: createCounter<GraphQLPhase, OperationLabel | "phase", FillLabelsFnParams & { errorPhase: GraphQLPhase }>({
      registry: this.registry,
      counter: {
        name: "batchwire_graphql_errors_total",
        help: "Errors in GraphQL responses, by operation and the phase that raised them (parse, validate, context, execute, subscribe).",
        labelNames: ["operation_type", "operation_name", "phase"],
      },
      fillLabelsFn: (params) => ({ ...this.#operationLabels(params), phase: params.errorPhase }),
    }),
  };

  readonly contentType = this.registry.contentType;

  constructor() {
    processMetrics();
  }

  // --- Tasks (the lifecycle core calls these) ---

  /** `n` tasks of `kind` reached final `status`. */
  taskFinished(kind: string, status: FinishedTaskStatus, n = 1): void {
    if (n > 0) this.#tasksFinished.inc({ kind, status }, n);
  }

  /** `n` handler runs of `kind` came to `outcome`. */
  taskAttempt(kind: string, outcome: TaskAttemptOutcome, n = 1): void {
    if (n > 0) this.#taskAttempts.inc({ kind, outcome }, n);
  }

  /** One handler run of `kind` took `seconds`. */
  taskDuration(kind: string, seconds: number): void {
    this.#taskDuration.observe({ kind }, seconds);
  }

  /** A task of `kind` started for the first time, `seconds` after its batch was submitted. */
  taskFirstStarted(kind: string, seconds: number): void {
    this.#taskQueue.observe({ kind }, Math.max(0, seconds));
  }

  /** This process runs up to `slots` tasks of `kind` at once (0 when its workers stop). */
  workerSlots(kind: string, slots: number): void {
    this.#workerSlots.set({ kind }, slots);
  }

  /**
   * Where batchwire_tasks and batchwire_oldest_queued_task_age_seconds are read from; `read` is
   * called by both at every scrape, so it should share one query (taskBacklog.ts caches).
   */
  observeBacklog(read: () => Promise<Backlog | undefined>): void {
    this.#backlog = read;
  }

  // --- API ---

  batchSubmitted(): void {
    this.#batchesSubmitted.inc();
  }

  /** Counts a subscription open; the returned function counts it closed (once, however often called). */
  subscriptionOpened(transport: SubscriptionTransport): () => void {
    this.#subscriptions.inc({ transport });
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.#subscriptions.dec({ transport });
    };
  }

  eventSent(): void {
    this.#eventsSent.inc();
  }

  webhookAttempt(outcome: WebhookOutcome): void {
    this.#webhookDeliveries.inc({ outcome });
  }

  observePool(pool: PoolName, counts: () => PoolCounts | null): void {
    this.#pools.set(pool, counts);
  }

  /** The scrape: Node's process metrics, then this app's, in the Prometheus text format. */
  async text(): Promise<string> {
    const [process, app] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${process.trimEnd()}\n\n${app}`;
  }

  #operationLabels(params: { operationType?: string; operationName?: string }): Record<OperationLabel, string> {
    return { operation_type: params.operationType ?? "unknown", operation_name: this.#operationName(params.operationName) };
  }

  #operationName(name: string | undefined): string {
    // The plugin names an unnamed operation "Anonymous".
    if (!name) return "Anonymous";
    if (this.#operationNames.has(name)) return name;
    if (this.#operationNames.size >= MAX_OPERATION_NAMES || !OPERATION_NAME.test(name)) return "other";
    this.#operationNames.add(name);
    return name;
  }

  #collectPools(): void {
    this.#poolConnections.reset();
    this.#poolMax.reset();
    this.#poolWaiting.reset();
    for (const [pool, read] of this.#pools) {
      const counts = read();
      if (!counts) continue;
      this.#poolConnections.set({ pool, state: "idle" }, counts.idle);
      this.#poolConnections.set({ pool, state: "in_use" }, counts.total - counts.idle);
      this.#poolMax.set({ pool }, counts.max);
      this.#poolWaiting.set({ pool }, counts.waiting);
    }
  }
}
