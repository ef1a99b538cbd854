// inputBounds.ts: the limits on client JSON (task inputs, batch metadata): size, nesting, and
// text PostgreSQL can store. JSON is only measured and stored, never evaluated.
import { jsonPath, textProblem } from "./wellFormed.ts";

/** Deeper JSON is refused before anything recursive (validation, JSON.stringify) touches it. */
export const MAX_JSON_DEPTH = 64;

interface Visit {
  node: unknown;
  depth: number;
  parent: Visit | undefined;
  step: string | number | undefined;
}

function pathOf(visit: Visit): string {
  const steps: (string | number)[] = [];
  for (let at: Visit | undefined = visit; at?.step !== undefined; at = at.parent) steps.unshift(at.step);
  return jsonPath(steps);
}

/** The first problem in one walk without recursion: too deep, or a string or key that cannot be stored. */
function structureProblem(value: unknown, maxDepth: number): string | undefined {
  const root: Visit = { node: value, depth: 1, parent: undefined, step: undefined };
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem && `${problem} at $`;
  }
  const stack: Visit[] = [root];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { node, depth } = visit;
    if (node === null || typeof node !== "object") continue;
    if (depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((child, index) => [index, child]) : Object.entries(node);
    for (const [step, child] of entries) {
      if (typeof step === "string") {
        const problem = textProblem(step);
        if (problem) return `has a key that ${problem} at ${pathOf(visit)}`;
      }
      if (typeof child === "string") {
        const problem = textProblem(child);
        if (problem) return `${problem} at ${pathOf({ node: child, depth: depth + 1, parent: visit, step })}`;
      } else if (child !== null && typeof child === "object") {
        stack.push({ node: child, depth: depth + 1, parent: visit, step });
      }
    }
  }
  return undefined;
}

/**
 * `value` as the JSON text to store, or why it is out of bounds, as the end of a sentence naming
 * the setting ("is 2048 bytes of JSON; MAX_TASK_INPUT_BYTES allows 1024"). Serialised once here,
 * the text is what the insert sends.
 */
export function boundedJson(value: unknown, maxBytes: number, setting: string): { json: string } | { problem: string } {
  const problem = structureProblem(value, MAX_JSON_DEPTH);
  if (problem) return { problem };
  const json = JSON.stringify(value) ?? "null";
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) return { problem: `is ${bytes} bytes of JSON; ${setting} allows ${maxBytes}` };
  return { json };
}
