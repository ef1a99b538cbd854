// inputBounds.ts: the size and nesting limits on client JSON (task inputs, batch metadata).
// JSON is only measured and stored, never evaluated.

/** Deeper JSON is refused before anything recursive (validation, JSON.stringify) touches it. */
export const MAX_JSON_DEPTH = 64;

function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * `value` as the JSON text to store, or why it is out of bounds, as the end of a sentence naming
 * the setting ("is 2048 bytes of JSON; MAX_TASK_INPUT_BYTES allows 1024"). Serialised once here,
 * the text is what the insert sends.
 */
export function boundedJson(value: unknown, maxBytes: number, setting: string): { json: string } | { problem: string } {
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) return { problem: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  const json = JSON.stringify(value) ?? "null";
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) return { problem: `is ${bytes} bytes of JSON; ${setting} allows ${maxBytes}` };
  if (ESCAPED_NUL.test(json)) return { problem: "contains a NUL character (\\u0000), which PostgreSQL's jsonb cannot store" };
  return { json };
}

// JSON.stringify writes U+0000 as \u0000; an escaped backslash before "u0000" is plain text.
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;
