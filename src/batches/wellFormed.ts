// wellFormed.ts: text a client sends that PostgreSQL cannot store as given. A lone UTF-16
// surrogate has no UTF-8 form (node-pg would write U+FFFD in its place, so two different keys
// could collide; jsonb refuses it outright) and neither text nor jsonb holds NUL. Such text is
// refused, naming where it is; it is never silently changed.

/** Why `text` cannot be stored as it is, as the end of a sentence; undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (!text.isWellFormed()) return "contains a lone UTF-16 surrogate (not valid Unicode)";
  if (text.includes("\0")) return "contains a NUL character (U+0000, which PostgreSQL cannot store)";
  return undefined;
}

/** A JSON path for messages: `$`, `$.a`, `$.list[2]`, `$["odd key"]`. */
export function jsonPath(steps: readonly (string | number)[]): string {
  let path = "$";
  for (const step of steps) {
    if (typeof step === "number") path += `[${step}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(step)) path += `.${step}`;
    // A key that is itself ill-formed is shown escaped, as JSON does.
    else path += `[${JSON.stringify(step)}]`;
  }
  return path;
}
