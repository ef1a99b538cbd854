// validation.ts: what makes a batch valid: its options, and each task, checked one at a time so
// that a file's tasks can be checked as they stream in (submitBatch and submitBatchFile share it).
import { randomUUID } from "node:crypto";
import type { GraphQLError } from "graphql";
import { clientError, ErrorCode, invalidTasks, MAX_TASK_ERRORS, type TaskErrorDetail } from "../errors.ts";
import type { KindRegistry } from "../worker/registry.ts";
import type { InputSpool } from "./inputSpool.ts";
import { boundedJson } from "./inputBounds.ts";
import { textProblem } from "./wellFormed.ts";
import type { NewTask } from "./sql/insertTasks.ts";

export interface SubmitTaskInput {
  kind: string;
  input?: unknown;
  customId?: string | null;
}

/** Everything a submit gives besides its tasks. */
export interface BatchOptions {
  idempotencyKey?: string | null;
  priority?: number | null;
  metadata?: unknown;
  completionWindowSeconds?: number | null;
  retentionSeconds?: number | null;
}

export interface ValidationLimits {
  kinds: KindRegistry;
  maxTasksPerBatch: number;
  maxTaskInputBytes: number;
  maxMetadataBytes: number;
}

const MAX_CUSTOM_ID_LENGTH = 255;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const PRIORITY_RANGE = 1_000; // times the fairness scale, it stays within a 32-bit integer
// pg-boss keeps a job that never started for 14 days; a window must close before that.
const MAX_COMPLETION_WINDOW_SECONDS = 7 * 24 * 3600; // 7 days
const MAX_RETENTION_SECONDS = 366 * 24 * 3600; // a year

export function noTasks(): GraphQLError {
  return clientError(ErrorCode.BAD_USER_INPUT, "a batch needs at least one task");
}

/** `count` is left out when the submit stopped counting at the limit (a file is not read to its end). */
export function tooManyTasks(maxTasksPerBatch: number, count?: number): GraphQLError {
  const has = count === undefined ? "this one has more" : `this one has ${count}`;
  return clientError(ErrorCode.BATCH_TOO_LARGE, `a batch holds at most ${maxTasksPerBatch} tasks; ${has}`, { maxTasksPerBatch });
}

/** Throws BAD_USER_INPUT for the first option out of its range. */
export function checkBatchOptions(limits: ValidationLimits, input: BatchOptions): void {
  if (input.idempotencyKey != null) {
    const key = input.idempotencyKey;
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw clientError(ErrorCode.BAD_USER_INPUT, `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    }
    const problem = textProblem(key);
    if (problem) throw clientError(ErrorCode.BAD_USER_INPUT, `idempotencyKey ${problem}`);
  }
  if (input.priority != null && Math.abs(input.priority) > PRIORITY_RANGE) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `priority must be between -${PRIORITY_RANGE} and ${PRIORITY_RANGE}`);
  }
  const metadata = input.metadata == null ? undefined : boundedJson(input.metadata, limits.maxMetadataBytes, "MAX_METADATA_BYTES");
  if (metadata && "problem" in metadata) throw clientError(ErrorCode.BAD_USER_INPUT, `metadata ${metadata.problem}`);
  if (input.completionWindowSeconds != null && (input.completionWindowSeconds < 1 || input.completionWindowSeconds > MAX_COMPLETION_WINDOW_SECONDS)) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `completionWindowSeconds must be between 1 and ${MAX_COMPLETION_WINDOW_SECONDS}`);
  }
  if (input.retentionSeconds != null && (input.retentionSeconds < 0 || input.retentionSeconds > MAX_RETENTION_SECONDS)) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `retentionSeconds must be between 0 and ${MAX_RETENTION_SECONDS}`);
  }
}

/**
 * A task id. randomUUID() concatenates its string from ~20 pieces, and V8 keeps such a string as
 * a tree of them: 490 bytes each, 49 MB per 100,000 tasks held until the insert. toLowerCase()
 * (a no-op on its characters) copies it into one flat string of 65 bytes.
 */
function flatUuid(): string {
  return randomUUID().toLowerCase();
}

/**
 * Checks a batch's tasks one by one, in index order. A valid task is kept as a NewTask (its input
 * serialised once, the parsed value dropped); an invalid one is reported, and `finish()` then
 * throws every report (up to MAX_TASK_ERRORS) as one BAD_USER_INPUT.
 */
export class TaskValidator {
  readonly #limits: Pick<ValidationLimits, "kinds" | "maxTaskInputBytes">;
  readonly #errors: TaskErrorDetail[] = [];
  #errorCount = 0;
  readonly #seenCustomIds = new Map<string, number>();
  readonly #valid: NewTask[] = [];
  readonly #spool: InputSpool | undefined;

  /** With a spool, the valid tasks' inputs are kept there instead of in memory. */
  constructor(limits: Pick<ValidationLimits, "kinds" | "maxTaskInputBytes">, spool?: InputSpool) {
    this.#limits = limits;
    this.#spool = spool;
  }

  /** `line` is the task's 1-based line in an uploaded file. */
  add(task: SubmitTaskInput, index: number, line?: number): void {
    const customId = task.customId ?? null;
    if (customId !== null) {
      const first = this.#seenCustomIds.get(customId);
      if (customId.length === 0 || customId.length > MAX_CUSTOM_ID_LENGTH) {
        return this.reject(index, `customId must be 1 to ${MAX_CUSTOM_ID_LENGTH} characters`, line);
      }
      const problem = textProblem(customId);
      if (problem) return this.reject(index, `customId ${problem}`, line);
      if (first !== undefined) return this.reject(index, `customId "${customId}" duplicates task ${first}`, line);
      this.#seenCustomIds.set(customId, index);
    }
    const kind = this.#limits.kinds.get(task.kind);
    if (!kind) return this.reject(index, `unknown task kind "${task.kind}"`, line);
    const bounded = boundedJson(task.input, this.#limits.maxTaskInputBytes, "MAX_TASK_INPUT_BYTES");
    if ("problem" in bounded) return this.reject(index, `input ${bounded.problem}`, line);
    const parsed = kind.input.safeParse(task.input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
      return this.reject(index, `invalid input for kind "${task.kind}": ${issues.join("; ")}`, line);
    }
    // The input is stored as given; the worker parses it again (applying defaults) when it runs.
    const id = flatUuid();
    this.#valid.push(
      this.#spool ? this.#spool.task(id, index, customId, task.kind, bounded.json) : { id, index, customId, kind: task.kind, inputJson: bounded.json },
    );
  }

  /** Reports a task that could not even be read (a file's line that is no task). */
  reject(index: number, message: string, line?: number): void {
    this.#errorCount++;
    if (this.#errors.length < MAX_TASK_ERRORS) this.#errors.push(line === undefined ? { index, message } : { index, line, message });
  }

  /** The valid tasks in index order; throws when any task was reported. */
  finish(): NewTask[] {
    if (this.#errorCount > 0) throw invalidTasks(this.#errors, this.#errorCount);
    return this.#valid;
  }
}
