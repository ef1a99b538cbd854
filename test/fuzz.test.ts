// fuzz.test.ts: property-based tests (fast-check) against the real server on a free port:
// generated GraphQL documents and variables, task inputs, cursors and WebSocket messages, valid,
// invalid and hostile. Whatever they are: no HTTP 500, no INTERNAL_SERVER_ERROR, every error with
// an `extensions.code`, no crash, and no stack trace (nor any error-level line) in the server's
// log. Runs are bounded and the seed is fixed (FUZZ_SEED overrides it); a failure prints the seed
// and the path that replays it.
import fc from "fast-check";
import { getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, type GraphQLField, type GraphQLInputType, type GraphQLObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { schema } from "../src/graphql/schema.ts";
import { createKey, keyedClient, post, rawSocket, runOperation, type TestKey } from "./helpers/auth.ts";
import { SUBMIT } from "./helpers/batches.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { captureLog, type LogCapture } from "./helpers/logCapture.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
const RUNS = 80;
const settings = (numRuns = RUNS) => ({ seed: SEED, numRuns, endOnFailure: true });

/** Codes a client may see; anything else (INTERNAL_SERVER_ERROR included) fails. */
const CLIENT_CODES = new Set([
  "BAD_USER_INPUT",
  "BATCH_TOO_LARGE",
  "IDEMPOTENCY_CONFLICT",
  "NOT_FOUND",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "TOO_MANY_SUBSCRIPTIONS",
  "PAYLOAD_TOO_LARGE",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  // Webhook endpoints in production without WEBHOOK_SECRET_KEY (no worker runs here: nothing is delivered).
  "WEBHOOKS_NOT_CONFIGURED",
]);

let db: TestDatabase;
let server: TestServer;
let key: TestKey;
let log: LogCapture;
let batchId: string;
const consoleError = vi.spyOn(console, "error");

beforeAll(async () => {
  db = await createTestDatabase();
  key = await createKey(db.pool, "acme");
  log = captureLog("debug");
  server = await startServer(db.url, { production: true, role: "api" }, [], log.logger);
  const submitted = await post<{ submitBatch: { batch: { id: string } } }>(server.url, SUBMIT, {
    key: key.key,
    variables: { input: { tasks: [{ kind: "echo", input: 1 }, { kind: "sleep", input: { ms: 1 } }] } },
  });
  batchId = submitted.data!.submitBatch.batch.id;
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

type GraphQLErrorShape = { message: string; extensions?: Record<string, unknown> };

function expectClientErrors(errors: GraphQLErrorShape[] | undefined, what: string): void {
  for (const error of errors ?? []) {
    expect(typeof error.extensions?.code, `${what}: ${error.message}`).toBe("string");
    expect(CLIENT_CODES.has(error.extensions!.code as string), `${what}: ${JSON.stringify(error)}`).toBe(true);
  }
}

// ---- values ---------------------------------------------------------------------------------

/** Any UTF-16 code unit, lone surrogates and NUL included, and characters that matter to parsers. */
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom("\ud800", "\udfff", "\u0000", "\ufffd", "\ud83d\ude00", "'", '"', "\\", "$", "{", "}", "[", "]", "#", "\n"),
  fc.string({ maxLength: 1 }),
);
const text = fc.string({ unit, maxLength: 12 });
const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    text,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(text, tie("value"), { maxKeys: 4 }),
  ),
})).value;
const nestedJson = fc.integer({ min: 1, max: 140 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});
const anyJson = fc.oneof({ arbitrary: json, weight: 9 }, { arbitrary: nestedJson, weight: 1 });

const integer = fc.oneof(fc.integer({ min: -5, max: 2_000 }), fc.constantFrom(-1, 0, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53));
const name = fc.stringMatching(/^[_A-Za-z][_0-9A-Za-z]{0,10}$/);

/** A JSON value for an input type: mostly fitting, sometimes anything at all. */
function valueFor(type: GraphQLInputType, depth: number): fc.Arbitrary<unknown> {
  const nullable = isNonNullType(type) ? type.ofType : type;
  const named = getNamedType(type);
  const fitting: fc.Arbitrary<unknown>[] = [];
  if (isListType(nullable)) {
    if (depth > 0) fitting.push(fc.array(valueFor(nullable.ofType as GraphQLInputType, depth - 1), { maxLength: 4 }));
  } else if (isEnumType(named)) {
    fitting.push(fc.constantFrom(...named.getValues().map((value) => value.name)));
  } else if (isInputObjectType(named)) {
    if (depth > 0) {
      const fields = Object.values(named.getFields());
      const required = fields.filter((field) => isNonNullType(field.type)).map((field) => field.name);
      fitting.push(fc.record(Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, depth - 1)])), { requiredKeys: required }));
    }
  } else if (named.name === "Int") {
    fitting.push(integer);
  } else if (named.name === "String" || named.name === "ID") {
    fitting.push(text, fc.constant(batchId), fc.uuid());
  } else if (named.name === "JSON") {
    fitting.push(anyJson);
  } else if (named.name === "Boolean") {
    fitting.push(fc.boolean());
  }
  return fitting.length ? fc.oneof({ arbitrary: fc.oneof(...fitting), weight: 6 }, { arbitrary: anyJson, weight: 1 }) : anyJson;
}

/** JSON written as a GraphQL literal ({ a: 1 } with bare names; keys that are no names are left out). */
function literalOf(value: unknown, enumLike: boolean): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return enumLike && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (Array.isArray(value)) return `[${value.map((item) => literalOf(item, enumLike)).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value).filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k));
    return `{ ${entries.map(([k, v]) => `${k}: ${literalOf(v, enumLike)}`).join(", ")} }`;
  }
  return String(value);
}

/** `arbitrary` one time in thirty, `otherwise` the rest. */
function rarely<T, U>(arbitrary: fc.Arbitrary<T>, otherwise: U): fc.Arbitrary<T | U> {
  return fc.oneof({ arbitrary: fc.constant(otherwise), weight: 29 }, { arbitrary, weight: 1 });
}

/** Every argument type in the schema, so a document can name one in a variable definition. */
const ARGUMENT_TYPES: GraphQLInputType[] = [];
const typeIndex = (type: GraphQLInputType) => {
  const found = ARGUMENT_TYPES.findIndex((known) => String(known) === String(type));
  return found >= 0 ? found : ARGUMENT_TYPES.push(type) - 1;
};

/**
 * An argument as a literal, or (a third of the time) as a variable: `$@N@` stands for a variable of
 * ARGUMENT_TYPES[N], named and declared when the operation is put together.
 */
function argumentValue(type: GraphQLInputType): fc.Arbitrary<string> {
  const index = typeIndex(type);
  const enumLike = isEnumType(getNamedType(type));
  return fc.oneof({ arbitrary: valueFor(type, 3).map((value) => literalOf(value, enumLike)), weight: 2 }, { arbitrary: fc.constant(`$@${index}@`), weight: 1 });
}

function argumentsOf(field: GraphQLField<unknown, unknown>): fc.Arbitrary<string> {
  const args = fc.subarray([...field.args]).chain((chosen) => fc.tuple(...chosen.map((arg) => argumentValue(arg.type).map((value) => `${arg.name}: ${value}`))));
  const stray = rarely(fc.tuple(name, integer).map(([argName, value]) => `${argName}: ${value}`), undefined);
  return fc.tuple(args, stray).map(([entries, extra]) => {
    const all = extra ? [...entries, extra] : entries;
    return all.length ? `(${all.join(", ")})` : "";
  });
}

function selection(type: GraphQLObjectType, depth: number): fc.Arbitrary<string> {
  const fields = Object.values(type.getFields());
  const field = fc.constantFrom(...fields).chain((chosen) => {
    const named = getNamedType(chosen.type);
    const below = isObjectType(named) ? (depth > 0 ? selection(named, depth - 1).map((inner) => ` { ${inner} }`) : fc.constant(" { __typename }")) : fc.constant("");
    const alias = rarely(name.map((value) => `${value}: `), "");
    return fc.tuple(alias, argumentsOf(chosen), below).map(([a, args, inner]) => `${a}${chosen.name}${args}${inner}`);
  });
  const other = fc.oneof(fc.constant("__typename"), name, fc.constant(`... on ${type.name} { __typename }`), fc.constant("__typename @include(if: true)"));
  return fc.array(fc.oneof({ arbitrary: field, weight: 30 }, { arbitrary: other, weight: 1 }), { minLength: 1, maxLength: 2 }).map((items) => items.join(" "));
}

/** Names the `$@N@` placeholders $v0, $v1, …, declares them, and draws their values. */
const operation = fc.constantFrom("query", "mutation").chain((kind) => {
  const root = kind === "query" ? schema.getQueryType()! : schema.getMutationType()!;
  return selection(root, 4).chain((body) => {
    const types: GraphQLInputType[] = [];
    const named = body.replace(/\$@(\d+)@/g, (_, index: string) => `$v${types.push(ARGUMENT_TYPES[Number(index)]!) - 1}`);
    const header = types.length ? `(${types.map((type, i) => `$v${i}: ${String(type)}`).join(", ")})` : "";
    return fc.tuple(...types.map((type) => fc.option(valueFor(type, 3), { nil: undefined, freq: 8 }))).map((values) => ({
      query: `${kind}${header} { ${named} }`,
      variables: Object.fromEntries(values.flatMap((value, i) => (value === undefined ? [] : [[`v${i}`, value]]))),
    }));
  });
});

// ---- properties -----------------------------------------------------------------------------

describe("fuzzed requests", () => {
  it("GraphQL documents and variables over HTTP", async () => {
    await fc.assert(
      fc.asyncProperty(operation, async ({ query, variables }) => {
        const result = await post(server.url, query, { key: key.key, variables });
        expect(result.status, query).toBeLessThan(500);
        expectClientErrors(result.errors, query);
      }),
      settings(150),
    );
  });

  it("GraphQL documents and variables over WebSocket", async () => {
    const client = keyedClient(server.wsUrl, key.key);
    try {
      await fc.assert(
        fc.asyncProperty(operation, async ({ query, variables }) => {
          const outcome = await runOperation(client, query, variables);
          // A socket-level error (a CloseEvent) would be the server ending the connection.
          expect(Array.isArray(outcome.error) || outcome.error === undefined, `${query}: ${String(outcome.error)}`).toBe(true);
          expectClientErrors([...((outcome.error as GraphQLErrorShape[] | undefined) ?? []), ...outcome.results.flatMap((r) => r.errors ?? [])], query);
        }),
        settings(150),
      );
    } finally {
      await client.dispose();
    }
  });

  it("task inputs: refused with a client code, or stored exactly as given", async () => {
    const canonical = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(canonical)
        : value !== null && typeof value === "object"
          ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
          : value;
    const task = fc.record(
      {
        kind: fc.oneof(fc.constantFrom("echo", "sleep", "fail", "sha256"), text),
        input: anyJson,
        customId: fc.option(text, { nil: undefined }),
      },
      { requiredKeys: ["kind", "input"] },
    );
    const input = fc.record(
      {
        tasks: fc.array(task, { minLength: 0, maxLength: 4 }),
        idempotencyKey: fc.option(text, { nil: undefined }),
        priority: fc.option(fc.integer({ min: -2_000, max: 2_000 }), { nil: undefined }),
        metadata: fc.option(anyJson, { nil: undefined }),
        completionWindowSeconds: fc.option(fc.integer({ min: -10, max: 700_000 }), { nil: undefined }),
      },
      { requiredKeys: ["tasks"] },
    );
    await fc.assert(
      fc.asyncProperty(input, async (given) => {
        const result = await post<{ submitBatch: { batch: { id: string } } }>(server.url, SUBMIT, { key: key.key, variables: { input: given } });
        expect(result.status).toBeLessThan(500);
        expectClientErrors(result.errors, JSON.stringify(given));
        if (!result.data?.submitBatch) return;
        const { rows } = await db.pool.query<{ input: unknown; custom_id: string | null }>(`select input, custom_id from task where batch_id = $1 order by index`, [result.data.submitBatch.batch.id]);
        // An idempotent replay returns the first batch: compare only fresh ones.
        if (rows.length !== given.tasks.length) return;
        rows.forEach((row, i) => {
          expect(canonical(row.input)).toEqual(canonical(JSON.parse(JSON.stringify(given.tasks[i]!.input) ?? "null")));
          expect(row.custom_id).toBe(given.tasks[i]!.customId ?? null);
        });
      }),
      settings(),
    );
  });

  it("cursors and page sizes", async () => {
    const TASKS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { batch(id: $id) { tasks(first: $first, after: $after, last: $last, before: $before) { pageInfo { endCursor } edges { cursor } } } }`;
    const BATCHES = `query($first: Int, $after: String, $last: Int, $before: String) { batches(first: $first, after: $after, last: $last, before: $before) { edges { cursor } } }`;
    const cursor = fc.oneof(text, fc.constantFrom("0", "1", "2147483647", "2147483648", "-1"), fc.uuid(), fc.constant(batchId), fc.bigInt().map(String));
    const page = fc.record({
      first: fc.option(fc.integer({ min: -3, max: 2_000 }), { nil: undefined }),
      last: fc.option(fc.integer({ min: -3, max: 2_000 }), { nil: undefined }),
      after: fc.option(cursor, { nil: undefined }),
      before: fc.option(cursor, { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), page, async (tasks, variables) => {
        const result = await post(server.url, tasks ? TASKS : BATCHES, { key: key.key, variables: tasks ? { ...variables, id: batchId } : variables });
        expect(result.status).toBeLessThan(500);
        expectClientErrors(result.errors, JSON.stringify(variables));
      }),
      settings(),
    );
  });

  it("WebSocket messages, before and after connection_init", async () => {
    const message = fc.oneof(
      fc.constant({ type: "connection_init", payload: { authorization: `Bearer ${key.key}` } }),
      fc.record({ type: fc.constant("connection_init"), payload: anyJson }),
      fc.record({ type: fc.constantFrom("ping", "pong"), payload: fc.option(anyJson, { nil: undefined }) }),
      fc.record({
        id: fc.oneof(text, fc.integer().map(String)),
        type: fc.constant("subscribe"),
        payload: fc.oneof(operation.map(({ query, variables }) => ({ query, variables })), anyJson, fc.constant({ query: `subscription { jobProgress(batchId: "${crypto.randomUUID()}") { batch { id } } }` })),
      }),
      fc.record({ id: text, type: fc.constant("complete") }),
      anyJson,
      text,
    );
    // Types only a server sends, older protocols' types, anything: often first, before connection_init.
    const forbidden = fc.record(
      {
        id: text,
        type: fc.oneof({ arbitrary: fc.constantFrom("next", "error", "connection_ack", "start", "stop", "data"), weight: 3 }, { arbitrary: text, weight: 1 }),
        // Mostly well-formed for its type, so that the type is what is wrong.
        payload: fc.oneof({ arbitrary: fc.constantFrom({ data: null }, [{ message: "x" }]), weight: 3 }, { arbitrary: anyJson, weight: 1 }),
      },
      { requiredKeys: ["type"] },
    );
    const sequence = fc.oneof(
      fc.array(fc.oneof(message, forbidden), { minLength: 1, maxLength: 4 }),
      fc.tuple(forbidden, fc.array(message, { maxLength: 3 })).map(([first, rest]) => [first, ...rest]),
    );
    await fc.assert(
      fc.asyncProperty(sequence, async (messages) => {
        const raw = rawSocket(server.wsUrl);
        await raw.opened;
        try {
          for (const m of messages) if (raw.socket.readyState === raw.socket.OPEN) raw.send(typeof m === "string" ? m : JSON.stringify(m) ?? "null");
          // Either the server closes the socket, or it still answers a ping.
          if (raw.socket.readyState === raw.socket.OPEN) raw.send({ type: "ping" });
          await Promise.race([raw.closed, raw.next((m) => m.type === "pong", 10_000)]).catch(() => undefined);
          const outcome = raw.socket.readyState === raw.socket.CLOSED ? await raw.closed : undefined;
          if (outcome) {
            // Protocol codes (44xx), ws's own (1009, 1002) or a normal close; never an internal error.
            expect([4500, 1011, 1006], JSON.stringify(messages).slice(0, 300)).not.toContain(outcome.code);
          }
          for (const m of raw.messages) if (m.type === "error") expectClientErrors(m.payload as GraphQLErrorShape[], JSON.stringify(messages).slice(0, 300));
          for (const m of raw.messages) if (m.type === "next") expectClientErrors((m.payload as { errors?: GraphQLErrorShape[] }).errors, JSON.stringify(messages).slice(0, 300));
        } finally {
          raw.socket.close();
        }
      }),
      settings(),
    );
  });

  it("left the server healthy, with no stack trace and no error in its log", async () => {
    const health = await fetch(server.url.replace("/graphql", "/healthz"));
    expect(health.status).toBe(200);
    const after = await post(server.url, `{ batch(id: "${batchId}") { id } }`, { key: key.key });
    expect(after.errors).toBeUndefined();
    expect(log.withStacks()).toEqual([]);
    expect(log.lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(consoleError).not.toHaveBeenCalled();
  });
});
