// readmeExamples.test.ts: the README's samples of what the server returns match what it returns
// today. The taskKinds sample: every kind it shows has the server's policy, and the input schema
// it prints in full is the server's.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { gqlOk, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let server: TestServer;

serverForFile({}, (file) => ({ server } = file));

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The first ```json block after `heading`. */
function jsonSample(heading: string): string {
  const section = README.slice(README.indexOf(heading));
  const start = section.indexOf("```json\n") + "```json\n".length;
  return section.slice(start, section.indexOf("```", start));
}

/** The JSON object that follows `"key":` at `from`, or undefined when the README elides it (…). */
function objectAfter(text: string, key: string, from: number): unknown {
  let at = text.indexOf(`"${key}":`, from) + key.length + 3;
  const start = at;
  let depth = 0;
  do {
    if (text[at] === "{") depth++;
    if (text[at] === "}") depth--;
    at++;
  } while (depth > 0 && at < text.length);
  const raw = text.slice(start, at);
  return raw.includes("…") ? undefined : JSON.parse(raw);
}

it("the taskKinds sample shows each kind's real policy and input schema", async () => {
  const { taskKinds } = await gqlOk<{ taskKinds: { name: string; inputSchema: unknown; policy: unknown }[] }>(
    server.url,
    `{ taskKinds { name inputSchema policy { timeoutSeconds retryLimit retryDelaySeconds retryBackoff retryDelayMaxSeconds concurrency batchSize } } }`,
  );
  const sample = jsonSample("### taskKinds");
  const shown = [...sample.matchAll(/\{"name":"([^"]+)"/g)];
  expect(shown.length).toBeGreaterThan(0);
  for (const match of shown) {
    const real = taskKinds.find((kind) => kind.name === match[1]);
    expect(real, `the README shows a kind "${match[1]}" the server does not have`).toBeDefined();
    expect({ kind: match[1], policy: objectAfter(sample, "policy", match.index) }).toEqual({ kind: match[1], policy: real!.policy });
    const schema = objectAfter(sample, "inputSchema", match.index);
    if (schema !== undefined) expect({ kind: match[1], schema }).toEqual({ kind: match[1], schema: real!.inputSchema });
  }
});
