// cursors.test.ts: cursors reveal nothing across tenants. A batch cursor is the batch's own id
// (nothing the caller did not already see, no global counter), paging looks its place up among
// the caller's own batches, and a forged or another tenant's cursor is BAD_USER_INPUT.
import { beforeAll, describe, expect, it } from "vitest";
import { codes, createKey, post, type TestKey } from "./helpers/auth.ts";
import { SUBMIT } from "./helpers/batches.ts";
import { serverForFile, type FileServer } from "./helpers/serverForFile.ts";

let file: FileServer;
let acme: TestKey;
let globex: TestKey;
serverForFile({ production: true, role: "api" }, (started) => (file = started));

const submitAs = async (key: TestKey) =>
  ((await post<{ submitBatch: { batch: { id: string } } }>(file.server.url, SUBMIT, { key: key.key, variables: { input: { tasks: [{ kind: "echo", input: 1 }] } } })).data!.submitBatch.batch.id);

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String) {
  batches(first: $first, after: $after, last: $last, before: $before) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }`;
type Page = { batches: { pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string }; edges: { cursor: string; node: { id: string } }[] } };
const page = (key: TestKey, variables: Record<string, unknown>) => post<Page>(file.server.url, PAGE, { key: key.key, variables });

let acmeBatches: string[] = [];

beforeAll(async () => {
  acme = await createKey(file.db.pool, "acme");
  globex = await createKey(file.db.pool, "globex");
  // Interleaved, so a global counter would show gaps where the other tenant's batches are.
  for (let i = 0; i < 5; i++) {
    acmeBatches.unshift(await submitAs(acme));
    await submitAs(globex);
  }
});

describe("batch cursors", () => {
  it("are the batches' own ids, and page through the caller's batches both ways", async () => {
    const first = await page(acme, { first: 2 });
    expect(first.data!.batches.edges.map((e) => e.cursor)).toEqual(first.data!.batches.edges.map((e) => e.node.id));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await page(acme, { first: 2, after });
      expect(result.errors).toBeUndefined();
      seen.push(...result.data!.batches.edges.map((e) => e.node.id));
      if (!result.data!.batches.pageInfo.hasNextPage) break;
      after = result.data!.batches.pageInfo.endCursor;
    }
    expect(seen).toEqual(acmeBatches);

    const back = await page(acme, { last: 2, before: acmeBatches[3] });
    expect(back.data!.batches.edges.map((e) => e.node.id)).toEqual(acmeBatches.slice(1, 3));
  });

  it("do not change when another tenant submits: they count nothing", async () => {
    const before = (await page(acme, { first: 5 })).data!.batches.edges.map((e) => e.cursor);
    for (let i = 0; i < 3; i++) await submitAs(globex);
    const after = (await page(acme, { first: 5 })).data!.batches.edges.map((e) => e.cursor);
    expect(after).toEqual(before);
    for (const cursor of after) expect(cursor).not.toMatch(/^\d+$/);
  });

  it("refuse another tenant's cursor, an unknown id and anything forged with BAD_USER_INPUT", async () => {
    const theirs = (await page(globex, { first: 3 })).data!.batches.edges.map((e) => e.cursor);
    const forged = [
      ...theirs,
      "00000000-0000-0000-0000-000000000000",
      crypto.randomUUID(),
      "1",
      "3",
      "-1",
      "0",
      Buffer.from("arrayconnection:1").toString("base64"),
      `${acmeBatches[0]} `,
      `${acmeBatches[0]}'`,
      "x'; drop table batch; --",
      "",
    ];
    for (const cursor of forged) {
      for (const variables of [{ first: 2, after: cursor }, { last: 2, before: cursor }]) {
        const result = await page(acme, variables);
        expect(codes(result), `${JSON.stringify(variables)}`).toEqual(["BAD_USER_INPUT"]);
        expect(result.errors![0]!.message).toMatch(/not a cursor this API returned/);
      }
    }
    // The same cursors still work for their own tenant.
    expect((await page(globex, { first: 1, after: theirs[0] })).errors).toBeUndefined();
  });
});
