// print-schema.ts: writes schema.graphql from the code (`npm run schema`); `--check` fails on drift.
import { readFile, writeFile } from "node:fs/promises";
import { printSortedSchema } from "../src/graphql/schema.ts";

const path = new URL("../schema.graphql", import.meta.url);
const printed = printSortedSchema();
if (process.argv.includes("--check")) {
  const current = await readFile(path, "utf8").catch(() => "");
  if (current !== printed) {
    process.stderr.write("schema.graphql is stale: run `npm run schema`\n");
    process.exit(1);
  }
} else {
  await writeFile(path, printed);
}
