// clientMistakes.test.ts: every client mistake is BAD_USER_INPUT (or a parse error), never an
// INTERNAL_SERVER_ERROR, and nothing is silently changed: text PostgreSQL cannot store as given
// (lone UTF-16 surrogates anywhere, NUL) is refused naming where it is; malformed or out-of-range
// cursors and page sizes have a code; query text nested past what the parser survives is a
// syntax error, not a 500.
import { beforeAll, describe, expect, it } from "vitest";
import { codes, createKey, post, type TestKey } from "./helpers/auth.ts";
import { SUBMIT } from "./helpers/batches.ts";
import { serverForFile, type FileServer } from "./helpers/serverForFile.ts";

let file: FileServer;
let key: TestKey;
let batchId: string;
serverForFile({ production: true, role: "api" }, (started) => (file = started));

beforeAll(async () => {
  key = await createKey(file.db.pool, "acme");
  const result = await submit({ tasks: [{ kind: "echo", input: 1 }, { kind: "echo", input: 2 }] });
  batchId = (result.data as { submitBatch: { batch: { id: string } } }).submitBatch.batch.id;
});

const submit = (input: Record<string, unknown>) => post(file.server.url, SUBMIT, { key: key.key, variables: { input } });
const rows = async () => (await file.db.pool.query<{ b: number; t: number }>(`select (select count(*)::int from batch) as b, (select count(*)::int from task) as t`)).rows[0];

// Lone surrogates of both halves, where a string starts, ends or in its middle, and a pair in the wrong order.
const LONE = ["\ud800", "\udbff", "\udc00", "\udfff", "a\ud83d", "\ude00b", "x\udc00\ud800y", "ok \ud83d\ude00 then \ud83d"];

describe("text PostgreSQL cannot store as given", () => {
  it("refuses a lone surrogate anywhere in a task input, naming the task and where, and writes nothing", async () => {
    const before = await rows();
    for (const bad of LONE) {
      const places: [unknown, string][] = [
        [bad, "$"],
        [{ text: bad }, "$.text"],
        [{ a: { b: [1, { c: bad }] } }, "$.a.b[1].c"],
        [[bad], "$[0]"],
        [{ [bad]: 1 }, "key"],
        [{ deep: { [`k${bad}`]: { x: 1 } } }, "key"],
      ];
      for (const [input, where] of places) {
        const result = await submit({ tasks: [{ kind: "echo", input: "fine" }, { kind: "echo", input }] });
        expect(codes(result), JSON.stringify(input)).toEqual(["BAD_USER_INPUT"]);
        const taskErrors = result.errors![0]!.extensions!.taskErrors as { index: number; message: string }[];
        expect(taskErrors).toHaveLength(1);
        expect(taskErrors[0]!.index).toBe(1);
        expect(taskErrors[0]!.message).toContain("lone UTF-16 surrogate");
        expect(taskErrors[0]!.message).toContain(where === "key" ? "key" : `at ${where}`);
      }
      // A kind's own string field (sha256's text) is an input like any other.
      const kindField = await submit({ tasks: [{ kind: "sha256", input: { text: bad, rounds: 1 } }] });
      expect(codes(kindField)).toEqual(["BAD_USER_INPUT"]);
    }
    expect(await rows()).toEqual(before);
  });

  it("refuses a lone surrogate in metadata, customId and idempotencyKey, and NUL in idempotencyKey", async () => {
    const before = await rows();
    const task = { kind: "echo", input: 1 };
    for (const bad of LONE) {
      for (const [input, names] of [
        [{ tasks: [task], metadata: { note: bad } }, "metadata"],
        [{ tasks: [task], metadata: { [bad]: true } }, "metadata"],
        [{ tasks: [task, { ...task, customId: bad }] }, "customId"],
        [{ tasks: [task], idempotencyKey: bad }, "idempotencyKey"],
      ] as [Record<string, unknown>, string][]) {
        const result = await submit(input);
        expect(codes(result), `${names} ${JSON.stringify(bad)}`).toEqual(["BAD_USER_INPUT"]);
        expect(JSON.stringify(result.errors), names).toContain(names === "customId" ? "customId" : names);
        expect(JSON.stringify(result.errors)).toContain("surrogate");
      }
    }
    for (const key of ["\u0000", "a\u0000", "\u0000b", "a\u0000b"]) {
      const result = await submit({ tasks: [task], idempotencyKey: key });
      expect(codes(result), JSON.stringify(key)).toEqual(["BAD_USER_INPUT"]);
      expect(result.errors![0]!.message).toContain("idempotencyKey");
      expect(result.errors![0]!.message).toContain("NUL");
    }
    expect(await rows()).toEqual(before);
  });

  it("stores well-formed text exactly as given: no replacement character, no collision of different keys", async () => {
    const text = "emoji \ud83d\ude00, replacement \ufffd, CJK \u4e2d, combining e\u0301";
    const first = await submit({ tasks: [{ kind: "echo", input: { text }, customId: `c-${text}` }], idempotencyKey: `k-${text}`, metadata: { text } });
    expect(first.errors).toBeUndefined();
    const { rows: stored } = await file.db.pool.query<{ input: { text: string }; custom_id: string; idempotency_key: string; metadata: { text: string } }>(
      `select t.input, t.custom_id, b.idempotency_key, b.metadata from task t join batch b on b.id = t.batch_id where b.idempotency_key = $1`,
      [`k-${text}`],
    );
    expect(stored).toEqual([{ input: { text }, custom_id: `c-${text}`, idempotency_key: `k-${text}`, metadata: { text } }]);
    // A key with a lone surrogate where this one has U+FFFD is refused, not taken for this one.
    const lookalike = await submit({ tasks: [{ kind: "echo", input: { text } }], idempotencyKey: `k-${text}`.replace("\ufffd", "\ud800") });
    expect(codes(lookalike)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("cursors and page sizes", () => {
  const TASKS = `query($id: ID!, $after: String, $before: String, $first: Int, $last: Int) { batch(id: $id) { tasks(first: $first, after: $after, last: $last, before: $before) { edges { cursor } } } }`;
  const BATCHES = `query($after: String, $before: String, $first: Int, $last: Int) { batches(first: $first, after: $after, last: $last, before: $before) { edges { cursor } } }`;

  it("refuses a task cursor that is malformed or past any index with BAD_USER_INPUT", async () => {
    const forged = ["-1", "01", "1.5", " 1", "1 ", "1e3", "0x10", "", "+1", "\u0661", "2147483648", "4294967296", "99999999999", "9".repeat(400), "NaN", "null"];
    for (const cursor of forged) {
      for (const direction of ["after", "before"]) {
        const result = await post(file.server.url, TASKS, { key: key.key, variables: { id: batchId, [direction]: cursor, first: direction === "after" ? 1 : undefined, last: direction === "before" ? 1 : undefined } });
        expect(codes(result), `${direction} ${JSON.stringify(cursor)}`).toEqual(["BAD_USER_INPUT"]);
      }
    }
    // The largest index there can be is a cursor like any other.
    const edge = await post<{ batch: { tasks: { edges: unknown[] } } }>(file.server.url, TASKS, { key: key.key, variables: { id: batchId, after: "2147483647", first: 1 } });
    expect(edge.errors).toBeUndefined();
    expect(edge.data!.batch.tasks.edges).toEqual([]);
  });

  it("refuses a negative or out-of-range first or last with BAD_USER_INPUT, for tasks and batches", async () => {
    for (const size of [-1, -2, -1000, -(2 ** 31), 2 ** 31, 2 ** 53, 1.5]) {
      for (const name of ["first", "last"]) {
        for (const [query, variables] of [
          [TASKS, { id: batchId }],
          [BATCHES, {}],
        ] as [string, Record<string, unknown>][]) {
          const result = await post(file.server.url, query, { key: key.key, variables: { ...variables, [name]: size, ...(name === "last" ? { before: query === TASKS ? "1" : undefined } : {}) } });
          expect(codes(result), `${name}: ${size}`).toEqual(["BAD_USER_INPUT"]);
        }
      }
    }
  });
});

describe("query text nested deeper than the parser can go", () => {
  const nested = (depth: number, open: string, close: string, inner: string) => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

  it("is a syntax error with a code, never a server error, for lists, objects and selections", async () => {
    for (const depth of [129, 1_000, 2_400, 4_000]) {
      const documents = [
        `{ batches(first: 1, status: ${nested(depth, "[", "]", "COMPLETED")}) { totalCount } }`,
        `mutation { submitBatch(input: { tasks: [{ kind: "echo", input: ${nested(depth, "{a:", "}", "1")} }] }) { batch { id } } }`,
        `{ batches ${nested(depth, "{ edges ", "}", "{ cursor }")} }`,
        `query($v: JSON = ${nested(depth, "[", "]", "1")}) { __typename }`,
      ];
      for (const document of documents) {
        const result = await post(file.server.url, document, { key: key.key });
        expect(result.status, `${depth}: ${document.slice(0, 40)}`).toBeLessThan(500);
        expect(codes(result), `${depth}: ${document.slice(0, 40)}`).toEqual(["GRAPHQL_PARSE_FAILED"]);
      }
    }
  });

  it("still takes a task input nested as deep as inputs may be, written in the query text", async () => {
    const result = await post(file.server.url, `mutation { submitBatch(input: { tasks: [{ kind: "echo", input: ${nested(63, "{a:", "}", "1")} }] }) { batch { id } } }`, { key: key.key });
    expect(result.errors).toBeUndefined();
  });
});
