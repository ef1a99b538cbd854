// responseBound.test.ts: no single request can stall the process. The most expensive request the
// default limits allow (nested connections with page sizes from variables and defaults, every
// alias spent, every field, task inputs and results that together far exceed MAX_RESPONSE_BYTES)
// is built by searching each shape of the attack for the largest page sizes the server accepts;
// over HTTP and over WebSocket it finishes well under a second with a bounded response, while
// /healthz keeps answering. Pages cut by MAX_RESPONSE_BYTES go on where they stopped.
import { performance } from "node:perf_hooks";
import { beforeAll, describe, expect, it } from "vitest";
import { createKey, keyedClient, post, runOperation, type TestKey } from "./helpers/auth.ts";
import { serverForFile, type FileServer } from "./helpers/serverForFile.ts";

// The defaults: the point is what a production server allows out of the box.
let file: FileServer;
let key: TestKey;
serverForFile({ production: true, role: "api" }, (started) => (file = started));

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const BATCHES = 100;
const TASKS_PER_BATCH = 100;
const JSON_BYTES = 8 * 1024;
/** One batch with a full page of tasks more: 1,000 tasks of 16 KiB of JSON each. */
const BIG_BATCH_TASKS = 1_000;
let bigBatchId: string;

beforeAll(async () => {
  key = await createKey(file.db.pool, "acme");
  // 100 finished batches of 100 tasks, each with an 8 KiB input and an 8 KiB result: 160 MiB of
  // task JSON, ten times what one response may carry. Written straight into the tables: the
  // submit path is not under test here.
  await file.db.pool.query(
    `with b as (
       insert into batch (owner, status, total, queued, succeeded, metadata, finished_at)
       select 'acme', 'COMPLETED', $1, 0, $1, jsonb_build_object('note', repeat('m', 1000)), now() from generate_series(1, $2)
       returning id)
     insert into task (id, batch_id, index, kind, input, status, attempts, result, finished_at)
     select gen_random_uuid(), b.id, i, 'echo', jsonb_build_object('text', repeat('i', $3)), 'SUCCEEDED', 1,
            jsonb_build_object('text', repeat('r', $3)), now()
     from b, generate_series(0, $1 - 1) i`,
    [TASKS_PER_BATCH, BATCHES, JSON_BYTES],
  );
  const { rows } = await file.db.pool.query<{ id: string }>(
    `with b as (insert into batch (owner, status, total, queued, succeeded, finished_at) values ('acme', 'COMPLETED', $1, 0, $1, now()) returning id),
          t as (insert into task (id, batch_id, index, kind, input, status, attempts, result, finished_at)
                select gen_random_uuid(), b.id, i, 'echo', jsonb_build_object('text', repeat('i', $2)), 'SUCCEEDED', 1, jsonb_build_object('text', repeat('r', $2)), now()
                from b, generate_series(0, $1 - 1) i)
     select id from b`,
    [BIG_BATCH_TASKS, JSON_BYTES],
  );
  bigBatchId = rows[0]!.id;
});

const TASK_FIELDS = "id batchId index customId kind status attempts input result error { message code } progress createdAt startedAt finishedAt updatedAt";
const typenames = (n: number) => Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(" ");

/** One batch's tasks, `aliases` times: the most task JSON one request can ask for. */
function oneBatchAttack(aliases: number): string {
  const copy = (i: number) => `b${i}: batch(id: $id) { tasks(first: $tasks) { edges { cursor node { ${TASK_FIELDS} } } } }`;
  return `query Attack($id: ID!, $tasks: Int) { ${Array.from({ length: aliases }, (_, i) => copy(i)).join(" ")} }`;
}

/** One shape of the attack: `aliases` copies of batches → tasks with every field, `typenameAliases` more in every task. */
function attack(aliases: number, typenameAliases: number): string {
  const copy = (i: number) =>
    `b${i}: batches(first: $batches) { totalCount edges { cursor node { id metadata counts { total } tasks(first: $tasks) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${TASK_FIELDS} ${typenames(typenameAliases)} } } } } } }`;
  return `query Attack($batches: Int, $tasks: Int) { ${Array.from({ length: aliases }, (_, i) => copy(i)).join(" ")} }`;
}

interface Verdict {
  refused: boolean;
  bytes: number;
  ms: number;
  messages: string[];
}

async function overHttp(query: string, variables: Record<string, unknown>): Promise<Verdict> {
  const started = performance.now();
  const result = await post(file.server.url, query, { key: key.key, variables });
  const ms = performance.now() - started;
  const refused = (result.errors ?? []).some((e) => e.extensions?.code === "GRAPHQL_VALIDATION_FAILED");
  if (!refused) expect(result.errors, JSON.stringify(result.errors)?.slice(0, 500)).toBeUndefined();
  return { refused, bytes: Buffer.byteLength(result.text), ms, messages: (result.errors ?? []).map((e) => e.message) };
}

async function overWebSocket(query: string, variables: Record<string, unknown>): Promise<Verdict> {
  const client = keyedClient(file.server.wsUrl, key.key);
  try {
    await runOperation(client, "{ __typename }"); // connected and acknowledged before timing
    const started = performance.now();
    const outcome = await runOperation(client, query, variables);
    const ms = performance.now() - started;
    const errors = [...(Array.isArray(outcome.error) ? outcome.error : []), ...outcome.results.flatMap((r) => r.errors ?? [])] as { message: string; extensions?: { code?: string } }[];
    const refused = errors.some((e) => e.extensions?.code === "GRAPHQL_VALIDATION_FAILED");
    if (!refused) expect(errors).toEqual([]);
    return { refused, bytes: Buffer.byteLength(JSON.stringify(outcome.results)), ms, messages: errors.map((e) => e.message) };
  } finally {
    await client.dispose();
  }
}

/** The largest value in [0, max] for which the server accepts `probe`'s request (0 when it accepts none). */
async function largestAccepted(max: number, probe: (n: number) => Promise<Verdict>): Promise<number> {
  if (!(await probe(max)).refused) return max;
  let [low, high] = [0, max]; // low accepted (or 0), high refused
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if ((await probe(mid)).refused) high = mid;
    else low = mid;
  }
  return low;
}

/** Polls /healthz until stopped; resolves with the slowest answer in ms. */
function watchHealth(): { stop: () => Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(file.server.url.replace("/graphql", "/healthz"));
      expect(response.status).toBe(200);
      await response.text();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe("the most expensive request the limits allow", () => {
  // Aliases spent on whole copies of the tree, on __typename in every task, or split.
  const shapes: [number, number][] = [
    [15, 0],
    [1, 14],
    [5, 10],
  ];

  it("is refused or finishes well under a second, over HTTP and WebSocket, with a bounded response and /healthz answering", async () => {
    const candidates: { query: string; variables: Record<string, number | string> }[] = [];
    for (const [aliases, typenameAliases] of shapes) {
      const query = attack(aliases, typenameAliases);
      // Past the alias limit the operation is refused outright.
      expect((await overHttp(attack(aliases, typenameAliases + 1), { batches: 1, tasks: 1 })).refused).toBe(true);
      // For a few numbers of batches (up to all there are), as many tasks of each as the limits
      // let through; and as many batches as they let through with full pages of tasks.
      for (const batches of [1, 10, BATCHES]) {
        const tasks = await largestAccepted(1_000, (n) => overHttp(query, { batches, tasks: n }));
        candidates.push({ query, variables: { batches, tasks } });
      }
      const batches = await largestAccepted(100, (n) => overHttp(query, { batches: n, tasks: 1_000 }));
      candidates.push({ query, variables: { batches, tasks: 1_000 } });
    }
    for (const aliases of [1, 15]) {
      const query = oneBatchAttack(aliases);
      const tasks = await largestAccepted(1_000, (n) => overHttp(query, { id: bigBatchId, tasks: n }));
      candidates.push({ query, variables: { id: bigBatchId, tasks } });
    }
    // The same shape with no page sizes at all: their defaults count as well.
    candidates.push({ query: attack(15, 0).replace("($batches: Int, $tasks: Int)", "($batches: Int = 100, $tasks: Int = 1000)"), variables: {} });

    for (const { query, variables } of candidates) {
      for (const transport of [overHttp, overWebSocket]) {
        const health = watchHealth();
        const runs: Verdict[] = [];
        for (let i = 0; i < 3; i++) runs.push(await transport(query, variables));
        const slowestHealth = await health.stop();
        const what = `${transport.name} ${JSON.stringify(variables)} ${query.slice(0, 60)}`;
        if (runs.every((run) => run.refused)) {
          expect(runs[0]!.messages.join(" "), what).toMatch(/MAX_QUERY_COST|limit/);
          continue;
        }
        // The task JSON is cut at MAX_RESPONSE_BYTES (plus the row that crosses it); the rest of
        // the response is what the cost limit lets through.
        for (const run of runs) expect(run.bytes, what).toBeLessThan(MAX_RESPONSE_BYTES + 8 * 1024 * 1024);
        // Well under a second, measured three times (the machine is shared): the middle run, and
        // no run anywhere near a stall.
        expect(median(runs.map((run) => run.ms)), what).toBeLessThan(1_000);
        expect(Math.max(...runs.map((run) => run.ms)), what).toBeLessThan(3_000);
        expect(slowestHealth, what).toBeLessThan(1_000);
      }
    }
  });

  it("counts a page size the same whether it is a literal, a variable or a variable's default", async () => {
    const shape = (first: string) => `{ batches(first: ${first}) { edges { node { tasks(first: ${first}) { edges { node { ${TASK_FIELDS} } } } } } } }`;
    const literal = await overHttp(shape("100"), {});
    const variable = await overHttp(`query($n: Int) ${shape("$n")}`, { n: 100 });
    const defaulted = await overHttp(`query($n: Int = 100) ${shape("$n")}`, {});
    expect([literal.refused, variable.refused, defaulted.refused]).toEqual([true, true, true]);
    expect(variable.messages.join()).toContain("MAX_QUERY_COST");
    expect(defaulted.messages).toEqual(literal.messages);
  });
});

describe("a page cut by MAX_RESPONSE_BYTES", () => {
  const PAGE = `query($id: ID!, $after: String) { batch(id: $id) { tasks(first: 1000, after: $after) { pageInfo { hasNextPage endCursor } edges { node { index input result } } } } }`;
  const IDS = `query($id: ID!) { batch(id: $id) { tasks(first: 1000) { pageInfo { hasNextPage } edges { node { index } } } } }`;
  type Page = { batch: { tasks: { pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: { index: number; input: { text: string } } }[] } } };
  const BUDGET = 512 * 1024;

  it("goes on where it stopped: every task once, in order, no response over the budget", async () => {
    // Each task carries 16 KiB of JSON; 1,000 of them would be 16 MiB. With a 512 KiB budget pages hold 32.
    const small = await import("./helpers/server.ts").then(({ startServer }) => startServer(file.db.url, { production: true, role: "api", maxResponseBytes: BUDGET }));
    try {
      const seen: number[] = [];
      let after: string | null = null;
      for (let page = 0; page < BIG_BATCH_TASKS; page++) {
        const result = await post<Page>(small.url, PAGE, { key: key.key, variables: { id: bigBatchId, after } });
        expect(result.errors).toBeUndefined();
        expect(Buffer.byteLength(result.text)).toBeLessThan(BUDGET + 2 * JSON_BYTES + 16 * 1024);
        const tasks: Page["batch"]["tasks"] = result.data!.batch.tasks;
        expect(tasks.edges.length).toBeGreaterThan(0);
        expect(tasks.edges.length).toBeLessThan(BIG_BATCH_TASKS);
        seen.push(...tasks.edges.map((edge) => edge.node.index));
        expect(tasks.edges.every((edge) => edge.node.input.text.length === JSON_BYTES)).toBe(true);
        if (!tasks.pageInfo.hasNextPage) break;
        after = tasks.pageInfo.endCursor;
      }
      expect(seen).toEqual(Array.from({ length: BIG_BATCH_TASKS }, (_, i) => i));

      // Without inputs or results, the budget does not apply: one full page.
      const ids = await post<Page>(small.url, IDS, { key: key.key, variables: { id: bigBatchId } });
      expect(ids.data!.batch.tasks.edges).toHaveLength(BIG_BATCH_TASKS);
    } finally {
      await small.stop();
    }
  });
});
