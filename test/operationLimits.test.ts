// operationLimits.test.ts: every operation is bounded the same over HTTP and over graphql-ws
// (graphql-armor: depth, aliases, tokens, directives, cost); production hides field suggestions,
// introspection and GraphiQL unless configured otherwise.
import type { GraphQLEnumType, GraphQLInputObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../src/graphql/schema.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { createKey, keyedClient, operationMessages, post, runOperation, type TestKey } from "./helpers/auth.ts";

let db: TestDatabase;
let devDb: TestDatabase;
let limited: TestServer;
let lenient: TestServer;
let dev: TestServer;
let key: TestKey;

const LIMITS = { maxQueryDepth: 4, maxQueryAliases: 2, maxQueryTokens: 60, maxQueryDirectives: 3, maxQueryCost: 400 };

beforeAll(async () => {
  db = await createTestDatabase();
  devDb = await createTestDatabase();
  key = await createKey(db.pool, "acme");
  // One after the other: two servers starting at once on one database race for the migration lock.
  limited = await startServer(db.url, { production: true, role: "api", ...LIMITS });
  lenient = await startServer(db.url, { production: true, role: "api", introspection: true, graphiql: true });
  dev = await startServer(devDb.url, { production: false, role: "api" });
});

afterAll(async () => {
  await Promise.all([limited?.stop(), lenient?.stop(), dev?.stop()]);
  await db?.drop();
  await devDb?.drop();
});

/** The messages one operation gets over HTTP and over a graphql-ws socket, side by side. */
async function both(server: TestServer, query: string, variables: Record<string, unknown> = {}): Promise<{ http: string[]; httpStatus: number; ws: string[] }> {
  const http = await post(server.url, query, { key: key.key, variables });
  const client = keyedClient(server.wsUrl, key.key);
  try {
    const outcome = await runOperation(client, query, variables);
    return { http: (http.errors ?? []).map((e) => e.message), httpStatus: http.status, ws: operationMessages(outcome) };
  } finally {
    await client.dispose();
  }
}

const fields = (n: number) => Array.from({ length: n }, () => "__typename").join(" ");

describe("operation limits, over HTTP and WebSocket alike", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "depth",
      `{ batches { edges { node { id } } } }`,
      `{ batches { edges { node { tasks { totalCount } } } } }`,
      /depth limit of 4 exceeded/i,
    ],
    // __typename aliases count like any other.
    ["aliases", `{ a: batch(id: "x") { id } b: __typename }`, `{ a: __typename b: __typename c: __typename }`, /aliases limit of 2 exceeded/i],
    ["tokens", `{ batch(id: "x") { ${fields(20)} } }`, `{ batch(id: "x") { ${fields(60)} } }`, /token limit of 60 exceeded/i],
    [
      "directives",
      `{ taskKinds { name @include(if: true) description @skip(if: false) } }`,
      `{ taskKinds { name @include(if: true) @include(if: true) description @skip(if: false) @skip(if: false) } }`,
      /directives limit of 3 exceeded/i,
    ],
    // A page size from a variable's default counts as a literal one (20 when none is given).
    ["cost", `{ batches { edges { node { id } } } }`, `query($n: Int = 100) { batches(first: $n) { edges { node { id } } } }`, /cost limit of 400 exceeded/i],
  ];

  for (const [limit, within, beyond, message] of cases) {
    it(`refuses an operation over the ${limit} limit and runs one within it`, async () => {
      const ok = await both(limited, within);
      expect(ok.http, `${limit} within, HTTP`).toEqual([]);
      expect(ok.ws, `${limit} within, WebSocket`).toEqual([]);

      const refused = await both(limited, beyond);
      expect(refused.httpStatus).toBe(400);
      expect(refused.http.join(" "), `${limit}, HTTP`).toMatch(message);
      expect(refused.ws.join(" "), `${limit}, WebSocket`).toMatch(message);
    });
  }

  it("applies the limits to subscriptions on the socket too", async () => {
    const deep = `subscription { jobProgress(batchId: "x") { batch { tasks { edges { node { id } } } } } }`;
    const client = keyedClient(limited.wsUrl, key.key);
    try {
      expect(operationMessages(await runOperation(client, deep)).join(" ")).toMatch(/depth limit of 4 exceeded/i);
      // The refusal was for that operation alone: the socket still serves.
      const next = await runOperation(client, `{ taskKinds { name } }`);
      expect(next.completed).toBe(true);
    } finally {
      await client.dispose();
    }
  });
});

describe("production hides the schema", () => {
  it("hides field suggestions in production, and shows them in development", async () => {
    const typo = `{ batchez { totalCount } }`;
    const prod = await both(limited, typo);
    for (const message of [...prod.http, ...prod.ws]) {
      expect(message).toContain('Cannot query field "batchez"');
      expect(message).not.toMatch(/did you mean/i);
      expect(message).not.toContain('"batches"');
    }
    expect(prod.http.length).toBeGreaterThan(0);
    expect(prod.ws.length).toBeGreaterThan(0);

    const local = await post(dev.url, typo);
    expect(local.errors?.[0]?.message).toMatch(/did you mean "batches"/i);
  });

  it("hides every suggestion in production, variables included: enum values, input fields, arguments", async () => {
    const typos = (name: string) => [name.slice(0, -1), `${name.slice(0, 1)}${name.slice(2, 3)}${name.slice(1, 2)}${name.slice(3)}`, name.toLowerCase()].filter((typo) => typo !== name);
    const cases: [string, string, Record<string, unknown>][] = [];
    const enums: Record<string, string> = {
      BatchStatus: `query($v: BatchStatus) { batches(status: $v) { totalCount } }`,
      TaskStatus: `query($v: TaskStatus) { batch(id: "x") { tasks(status: $v) { totalCount } } }`,
    };
    for (const [name, query] of Object.entries(enums)) {
      const values = (schema.getType(name) as GraphQLEnumType).getValues().map((value) => value.name);
      for (const value of values) for (const typo of typos(value)) cases.push([`${name}.${value} as ${typo}`, query, { v: typo }]);
    }
    const submit = `mutation($v: SubmitBatchInput!) { submitBatch(input: $v) { batch { id } } }`;
    const task = { kind: "echo", input: 1 };
    for (const field of Object.keys((schema.getType("SubmitBatchInput") as GraphQLInputObjectType).getFields())) {
      for (const typo of typos(field)) cases.push([`SubmitBatchInput.${field} as ${typo}`, submit, { v: { tasks: [task], [typo]: 1 } }]);
    }
    for (const field of Object.keys((schema.getType("TaskInput") as GraphQLInputObjectType).getFields())) {
      for (const typo of typos(field)) cases.push([`TaskInput.${field} as ${typo}`, submit, { v: { tasks: [{ ...task, [typo]: 1 }] } }]);
    }
    cases.push(["an enum literal", `{ batches(status: COMPLETD) { totalCount } }`, {}]);
    cases.push(["an argument", `{ batches(frist: 1) { totalCount } }`, {}]);

    let suggestedInDevelopment = 0;
    for (const [what, query, variables] of cases) {
      const prod = await both(limited, query, variables);
      expect(prod.http.length, what).toBeGreaterThan(0);
      expect(prod.ws.length, what).toBeGreaterThan(0);
      for (const message of [...prod.http, ...prod.ws]) expect(message, what).not.toMatch(/did you mean/i);
      const local = await post(dev.url, query, { variables });
      if ((local.errors ?? []).some((e) => /did you mean/i.test(e.message))) suggestedInDevelopment++;
    }
    // The same mistakes do get suggestions where they are allowed: the check above can fail.
    expect(suggestedInDevelopment).toBeGreaterThan(cases.length / 2);
  });

  it("refuses introspection in production over HTTP and WebSocket, unless INTROSPECTION enables it", async () => {
    for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "Batch") { fields { name } } }`]) {
      const refused = await both(limited, query);
      expect(refused.http.join(" ")).toMatch(/introspection has been disabled/);
      expect(refused.ws.join(" ")).toMatch(/introspection has been disabled/);

      const enabled = await both(lenient, query);
      expect(enabled.http).toEqual([]);
      expect(enabled.ws).toEqual([]);
      const local = await post(dev.url, query);
      expect(local.errors).toBeUndefined();
    }
  });

  it("serves no GraphiQL in production unless GRAPHIQL enables it", async () => {
    const page = (server: TestServer) => fetch(server.url, { headers: { accept: "text/html" } });
    const prod = await page(limited);
    const prodText = await prod.text();
    expect(prodText.toLowerCase()).not.toContain("graphiql");
    expect(prod.headers.get("content-type") ?? "").not.toContain("text/html");

    for (const server of [lenient, dev]) {
      const response = await page(server);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/html");
      expect((await response.text()).toLowerCase()).toContain("graphiql");
    }
  });
});
