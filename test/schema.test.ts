// schema.test.ts: schema.graphql is the printed, sorted schema of the code; drift fails here.
import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { printSortedSchema } from "../src/graphql/schema.ts";

it("schema.graphql matches the schema the code builds (run `npm run schema` to update)", async () => {
  const checkedIn = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
  expect(checkedIn).toBe(printSortedSchema());
});
