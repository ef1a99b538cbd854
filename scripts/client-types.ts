// client-types.ts: writes src/client/generated.ts, the typed client's operation types, from
// schema.graphql and src/client/operations.graphql (`npm run codegen`); `--check` fails on drift.
import { readFile, writeFile } from "node:fs/promises";
import { codegen } from "@graphql-codegen/core";
import * as typedDocumentNode from "@graphql-codegen/typed-document-node";
import * as typescriptOperations from "@graphql-codegen/typescript-operations";
import { parse } from "graphql";

const SCHEMA = new URL("../schema.graphql", import.meta.url);
const OPERATIONS = new URL("../src/client/operations.graphql", import.meta.url);
export const GENERATED = new URL("../src/client/generated.ts", import.meta.url);

const HEADER = `// generated.ts: written by \`npm run codegen\` from schema.graphql and operations.graphql; do not edit.\n`;

/** The text generated.ts must have. */
export async function generateClientTypes(): Promise<string> {
  const [schema, operations] = await Promise.all([readFile(SCHEMA, "utf8"), readFile(OPERATIONS, "utf8")]);
  const output = await codegen({
    filename: "src/client/generated.ts",
    schema: parse(schema),
    documents: [{ location: "src/client/operations.graphql", document: parse(operations) }],
    plugins: [{ typescriptOperations: {} }, { typedDocumentNode: {} }],
    pluginMap: { typescriptOperations, typedDocumentNode },
    config: {
      // Type-only code that Node can strip.
      enumsAsTypes: true,
      useTypeImports: true,
      avoidOptionals: { field: true, inputValue: false, object: false },
      scalars: { DateTime: "string", JSON: "unknown", File: "Blob" },
    },
  });
  return HEADER + output;
}

if (import.meta.main) {
  const generated = await generateClientTypes();
  if (process.argv.includes("--check")) {
    const current = await readFile(GENERATED, "utf8").catch(() => "");
    if (current !== generated) {
      process.stderr.write("src/client/generated.ts is stale: run `npm run codegen`\n");
      process.exit(1);
    }
  } else {
    await writeFile(GENERATED, generated);
  }
}
