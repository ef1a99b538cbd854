// submitFile.ts: submitBatchFile: a JSONL file of tasks, checked line by line as it streams in,
// then stored like submitBatch's tasks (the same checks, the same one transaction).
import { clientError, ErrorCode } from "../errors.ts";
import { InputSpool } from "./inputSpool.ts";
import { lines } from "./jsonl.ts";
import type { BatchRow } from "./rows.ts";
import { storeBatch, type SubmitDeps } from "./submit.ts";
import { checkBatchOptions, noTasks, TaskValidator, tooManyTasks, type BatchOptions, type SubmitTaskInput } from "./validation.ts";

/** What the File scalar hands a resolver: a web File, or an upload still streaming in. */
export interface UploadedFile {
  readonly name: string;
  stream(): AsyncIterable<Uint8Array>;
}

export interface SubmitBatchFileInput extends BatchOptions {
  file: UploadedFile;
  /** The kind of lines that name none. */
  kind?: string | null;
}

const NOT_BLANK = /\S/;
const LINE_FIELDS = new Set(["customId", "kind", "input"]);

/**
 * The longest line read: its input may be written less compactly than the stored JSON (spaces,
 * \u escapes), so twice the input limit, plus room for the other fields.
 */
export function maxLineBytes(maxTaskInputBytes: number): number {
  return 2 * maxTaskInputBytes + 64 * 1024;
}

/** A line's task, or why it is none. */
function parseLine(text: string, defaultKind: string | null): SubmitTaskInput | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `invalid JSON: ${(error as Error).message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return 'a line must be a JSON object: { "customId"?, "kind"?, "input" }';
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !LINE_FIELDS.has(key));
  if (unknown !== undefined) return `unknown field "${unknown.slice(0, 100)}"; a line has "customId", "kind" and "input"`;
  if (!("input" in fields)) return 'no "input"';
  const kind = fields.kind ?? defaultKind;
  if (kind === null) return 'no "kind", and the upload gives no default kind';
  if (typeof kind !== "string") return '"kind" must be a string';
  const customId = fields.customId ?? null;
  if (customId !== null && typeof customId !== "string") return '"customId" must be a string';
  return { kind, customId, input: fields.input };
}

export async function submitBatchFile(deps: SubmitDeps, owner: string, input: SubmitBatchFileInput): Promise<BatchRow> {
  checkBatchOptions(deps, input);
  const defaultKind = input.kind ?? null;
  if (defaultKind !== null && !deps.kinds.get(defaultKind)) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `unknown task kind "${defaultKind}" (the default kind)`);
  }
  const spool = await InputSpool.open();
  try {
    const validator = new TaskValidator(deps, spool);
    let index = 0;
    // Every line is read, so that every bad one is reported; only the valid tasks' inputs are kept.
    for await (const line of lines(input.file.stream(), maxLineBytes(deps.maxTaskInputBytes))) {
      if ("text" in line && !NOT_BLANK.test(line.text)) continue;
      if (index === deps.maxTasksPerBatch) throw tooManyTasks(deps.maxTasksPerBatch);
      const task = "text" in line ? parseLine(line.text, defaultKind) : line.problem;
      if (typeof task === "string") validator.reject(index, task, line.number);
      else validator.add(task, index, line.number);
      index++;
      await spool.flush();
    }
    if (index === 0) throw noTasks();
    const tasks = validator.finish();
    await spool.flush(true);
    return await storeBatch(deps, owner, input, tasks);
  } finally {
    await spool.close();
  }
}
