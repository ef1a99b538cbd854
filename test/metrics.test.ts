// metrics.test.ts: GET /metrics of a real API process, scraped over HTTP and read with real
// Prometheus parsers (parse-prometheus-text-format, and promtool): every declared metric with its
// help text, batches and GraphQL operations counted after a known sequence of requests, the
// cluster-wide backlog against the task table, subscriptions up and down on every transport, and
// label values that stay bounded. The process runs no workers, so submitted tasks stay QUEUED.
import { expect, it } from "vitest";
import { createClient as createSseClient } from "graphql-sse";
import { createClient } from "../src/client/index.ts";
import { SSE_ENDPOINT } from "../src/server/graphqlSse.ts";
import { keyedClient } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import { batchwireLabels, batchwireText, baseOf, family, histogramCount, promtoolCheckMetrics, scrape, value, type Scrape } from "./helpers/metrics.ts";
import { gql, waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({ role: "api" }, (file) => ({ db, server } = file));

const metricsOf = () => scrape(baseOf(server.url));
const client = () => createClient({ url: server.url });

const DECLARED = {
  batchwire_tasks_finished_total: ["kind", "status"],
  batchwire_task_attempts_total: ["kind", "outcome"],
  batchwire_task_duration_seconds: ["kind"],
  batchwire_task_queue_seconds: ["kind"],
  batchwire_tasks: ["kind", "status"],
  batchwire_oldest_queued_task_age_seconds: ["kind"],
  batchwire_worker_slots: ["kind"],
  batchwire_batches_submitted_total: [],
  batchwire_subscriptions: ["transport"],
  batchwire_events_sent_total: [],
  batchwire_webhook_deliveries_total: ["outcome"],
  batchwire_db_pool_connections: ["pool", "state"],
  batchwire_db_pool_max_connections: ["pool"],
  batchwire_db_pool_waiting_requests: ["pool"],
  batchwire_graphql_operations_total: ["operation_type", "operation_name"],
  batchwire_graphql_operation_duration_seconds: ["operation_type", "operation_name"],
  batchwire_graphql_errors_total: ["operation_type", "operation_name", "phase"],
} as const;

it("serves the Prometheus text format that promtool and a text-format parser both read", async () => {
  const scraped = await metricsOf();
  expect(scraped.status).toBe(200);
  expect(scraped.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");

  // batchwire's own families pass promtool's parser and its lint (naming, units, _total).
  const ours = await promtoolCheckMetrics(batchwireText(scraped.text));
  expect(ours.output).toBe("");
  expect(ours.code).toBe(0);
  // The whole scrape parses; promtool's only remarks are on prom-client's own Node gauges.
  const all = await promtoolCheckMetrics(scraped.text);
  const remarks = all.output.split("\n").filter(Boolean);
  expect(remarks.every((line) => /^nodejs_\w+ non-counter metrics should not have "_total" suffix$/.test(line))).toBe(true);

  for (const [name, labels] of Object.entries(DECLARED)) {
    const declared = family(scraped, name);
    expect(declared, name).toBeDefined();
    expect(declared!.help.length, `${name} has a help text`).toBeGreaterThan(10);
  }
  // Each sample's label names, histogram series included (le aside).
  const labelNames = new Map<string, Set<string>>();
  for (const { metric, label } of batchwireLabels(scraped)) {
    const name = metric.replace(/_(bucket|sum|count)$/, "");
    if (!(name in DECLARED)) continue;
    if (!labelNames.has(name)) labelNames.set(name, new Set());
    if (label !== "le") labelNames.get(name)!.add(label);
  }
  for (const [name, labels] of labelNames) expect([...labels].sort(), name).toEqual([...DECLARED[name as keyof typeof DECLARED]].sort());
  expect(labelNames.has("batchwire_tasks")).toBe(true);
  // Node's default process metrics, and both connection pools.
  for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
    expect(family(scraped, name), name).toBeDefined();
  }
  for (const pool of ["batchwire", "pgboss"]) {
    expect(value(scraped, "batchwire_db_pool_max_connections", { pool })).toBe(5);
    expect(value(scraped, "batchwire_db_pool_connections", { pool, state: "idle" })).toBeGreaterThanOrEqual(0);
  }
  // An API-only process runs no task kinds.
  expect(family(scraped, "batchwire_worker_slots")!.metrics).toEqual([]);
});

it("counts accepted batches and GraphQL operations by operation name after a known sequence of requests", async () => {
  const before = await metricsOf();
  const api = client();
  await api.submit([{ kind: "echo", input: 1 }]);
  await api.submit([{ kind: "echo", input: 2 }, { kind: "sleep", input: { ms: 1 } }]);
  await api.submit({ file: new Blob(['{"input": 3}\n{"input": 4}\n']), kind: "echo" });
  const rejected = await gql(server.url, `mutation SubmitBatch($input: SubmitBatchInput!) { submitBatch(input: $input) { batch { id } } }`, {
    input: { tasks: [{ kind: "no-such-kind", input: 1 }] },
  });
  expect(rejected.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  for (let i = 0; i < 3; i++) await api.taskKinds();
  await gql(server.url, `query Broken { noSuchField }`);
  const after = await metricsOf();

  const delta = (name: string, labels: Record<string, string> = {}) => (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
  expect(delta("batchwire_batches_submitted_total")).toBe(3);
  expect(delta("batchwire_graphql_operations_total", { operation_type: "mutation", operation_name: "SubmitBatch" })).toBe(3);
  expect(delta("batchwire_graphql_operations_total", { operation_type: "mutation", operation_name: "SubmitBatchFile" })).toBe(1);
  expect(delta("batchwire_graphql_operations_total", { operation_type: "query", operation_name: "TaskKinds" })).toBe(3);
  const durations = (scraped: Scrape) => histogramCount(scraped, "batchwire_graphql_operation_duration_seconds", { operation_type: "query", operation_name: "TaskKinds" }) ?? 0;
  expect(durations(after) - durations(before)).toBe(3);
  expect(delta("batchwire_graphql_errors_total", { operation_type: "mutation", operation_name: "SubmitBatch", phase: "execute" })).toBe(1);
  expect(delta("batchwire_graphql_errors_total", { operation_name: "Broken", phase: "validate" })).toBe(1);
});

it("reports the cluster-wide backlog of queued tasks by kind, as the task table holds it, and the age of the oldest", async () => {
  await client().submit([...Array.from({ length: 7 }, (_, i) => ({ kind: "echo", input: i })), { kind: "sha256", input: { text: "x" } }]);
  const { rows } = await db.pool.query<{ kind: string; n: number }>(`select kind, count(*)::int as n from task where status = 'QUEUED' group by kind`);
  const queued = Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  expect(queued.echo).toBeGreaterThanOrEqual(7);

  // A scrape serves a read of at most a few seconds ago: wait until it has caught up.
  const caughtUp = await waitFor(async () => {
    const scraped = await metricsOf();
    return value(scraped, "batchwire_tasks", { kind: "echo", status: "QUEUED" }) === queued.echo ? scraped : undefined;
  }, 30_000, "the backlog gauge to show the queued tasks");
  expect(value(caughtUp, "batchwire_tasks", { kind: "sha256", status: "QUEUED" })).toBe(queued.sha256);
  expect(value(caughtUp, "batchwire_tasks", { kind: "echo", status: "RUNNING" })).toBe(0);
  expect(value(caughtUp, "batchwire_tasks", { kind: "fail", status: "QUEUED" })).toBe(0); // no tasks: a zero, not a gap
  expect(value(caughtUp, "batchwire_oldest_queued_task_age_seconds", { kind: "fail" })).toBe(0);

  // The oldest queued task keeps ageing while nothing runs it.
  const { rows: oldest } = await db.pool.query<{ age: number }>(
    `select extract(epoch from now() - min(created_at))::float8 as age from task where status = 'QUEUED' and kind = 'echo'`,
  );
  await waitFor(async () => {
    const age = value(await metricsOf(), "batchwire_oldest_queued_task_age_seconds", { kind: "echo" })!;
    return age >= oldest[0]!.age + 1 ? age : undefined;
  }, 30_000, "the oldest queued echo task's age to grow");
});

it("counts open subscriptions by transport, up and down, and the events sent to them", async () => {
  const batch = await client().submit([{ kind: "echo", input: "stays queued" }]);
  const open = async (transport: string) => value(await metricsOf(), "batchwire_subscriptions", { transport }) ?? 0;
  const eventsBefore = value(await metricsOf(), "batchwire_events_sent_total")!;
  const wsBefore = await open("ws");

  // graphql-ws over a real WebSocket: the batch stays QUEUED, so the stream stays open.
  const ws = keyedClient(server.url.replace("http", "ws"), undefined);
  const firstEvent = new Promise<unknown>((resolve, reject) => {
    ws.subscribe({ query: `subscription($id: ID!) { jobProgress(batchId: $id) { batch { status } } }`, variables: { id: batch.id } }, {
      next: resolve,
      error: reject,
      complete: () => undefined,
    });
  });
  await firstEvent;
  expect(await open("ws")).toBe(wsBefore + 1);
  expect(value(await metricsOf(), "batchwire_events_sent_total")).toBeGreaterThanOrEqual(eventsBefore + 1);
  await ws.dispose();
  await waitFor(async () => ((await open("ws")) === wsBefore ? true : undefined), 10_000, "the ws subscription to be counted closed");

  // yoga's Server-Sent Events.
  const sseBefore = await open("sse");
  const abort = new AbortController();
  const response = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ query: `subscription($id: ID!) { jobProgress(batchId: $id) { batch { status } } }`, variables: { id: batch.id } }),
    signal: abort.signal,
  });
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  await waitFor(async () => ((await open("sse")) === sseBefore + 1 ? true : undefined), 10_000, "the SSE subscription to be counted");
  abort.abort();
  await waitFor(async () => ((await open("sse")) === sseBefore ? true : undefined), 10_000, "the SSE subscription to be counted closed");

  // The graphql-sse protocol at /graphql/stream (distinct connections mode).
  const graphqlSseBefore = await open("graphql-sse");
  const sse = createSseClient({ url: `${baseOf(server.url)}${SSE_ENDPOINT}`, retryAttempts: 0 });
  const events = sse.iterate({ query: `subscription($id: ID!) { jobProgress(batchId: $id) { batch { status } } }`, variables: { id: batch.id } });
  await events.next();
  expect(await open("graphql-sse")).toBe(graphqlSseBefore + 1);
  await events.return?.(undefined);
  sse.dispose();
  await waitFor(async () => ((await open("graphql-sse")) === graphqlSseBefore ? true : undefined), 10_000, "the graphql-sse subscription to be counted closed");
});

it("keeps label values bounded: client-chosen operation names beyond the first hundred count as other, and no id is ever a label", async () => {
  for (let i = 0; i < 110; i++) await gql(server.url, `query Named${i} { taskKinds { name } }`);
  await client().submit([{ kind: "echo", input: "ids must not leak" }], { idempotencyKey: "key-1" });
  const scraped: Scrape = await metricsOf();

  const names = new Set(family(scraped, "batchwire_graphql_operations_total")!.metrics.map((s) => s.labels!.operation_name));
  expect(names.size).toBeLessThanOrEqual(101);
  expect(names.has("other")).toBe(true);
  expect(value(scraped, "batchwire_graphql_operations_total", { operation_name: "other" })).toBeGreaterThanOrEqual(1);

  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
  const values = batchwireLabels(scraped);
  expect(values.filter((v) => uuid.test(v.value) || v.value.includes("key-1"))).toEqual([]);
  const allowed: Record<string, RegExp> = {
    kind: /^(echo|sleep|fail|sha256)$/,
    status: /^(QUEUED|RUNNING|RETRYING|SUCCEEDED|FAILED|CANCELED|EXPIRED)$/,
    transport: /^(ws|sse|graphql-sse)$/,
    pool: /^(batchwire|pgboss)$/,
    state: /^(idle|in_use)$/,
    operation_type: /^(query|mutation|subscription|unknown)$/,
    operation_name: /^[_A-Za-z][_0-9A-Za-z]*$/,
    phase: /^(parse|validate|context|execute|subscribe)$/,
    le: /^([0-9.e+-]+|\+Inf)$/,
  };
  for (const { metric, label, value: v } of values) expect(allowed[label]?.test(v), `${metric}{${label}="${v}"}`).toBe(true);
});
