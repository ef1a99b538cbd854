// clientTypes.test.ts: src/client/generated.ts is what GraphQL Code Generator writes from
// schema.graphql and the client's operations; drift (either side changed alone) fails here.
import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { generateClientTypes, GENERATED } from "../scripts/client-types.ts";

it("the typed client's generated.ts matches schema.graphql and operations.graphql (run `npm run codegen` to update)", async () => {
  expect(await readFile(GENERATED, "utf8")).toBe(await generateClientTypes());
});
