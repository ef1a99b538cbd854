// submit.ts: validates a batch, then writes it, its tasks and their pg-boss jobs in ONE transaction.
import { createHash, randomUUID } from "node:crypto";
import type { PgBoss } from "pg-boss";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import type { JobStatistics } from "../db/statistics.ts";
import { clientError, ErrorCode, invalidTasks, MAX_TASK_ERRORS, type TaskErrorDetail } from "../errors.ts";
import type { KindRegistry } from "../worker/registry.ts";
import { jobFor, jobPriority, queueName, type TaskJobData } from "../worker/queues.ts";
import type { JobInsert } from "pg-boss";
import type { BatchRow } from "./rows.ts";
import { getBatchByIdempotencyKey } from "./sql/getBatch.ts";
import { boundedJson } from "./inputBounds.ts";
import { textProblem } from "./wellFormed.ts";
import { insertBatch } from "./sql/insertBatch.ts";
import { insertTasks, type NewTask } from "./sql/insertTasks.ts";
import { notifyCreated } from "./sql/notifyCreated.ts";

export interface SubmitTaskInput {
  kind: string;
  input?: unknown;
  customId?: string | null;
}

export interface SubmitBatchInput {
  tasks: SubmitTaskInput[];
  idempotencyKey?: string | null;
  priority?: number | null;
  metadata?: unknown;
  completionWindowSeconds?: number | null;
  retentionSeconds?: number | null;
}

export interface SubmitDeps {
  pool: Pool;
  boss: PgBoss;
  kinds: KindRegistry;
  maxTasksPerBatch: number;
  maxTaskInputBytes: number;
  maxMetadataBytes: number;
  completionWindowSeconds: number;
  retentionSeconds: number;
  /** Told how many jobs each submit inserted. */
  statistics: JobStatistics;
}

const MAX_CUSTOM_ID_LENGTH = 255;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const PRIORITY_RANGE = 1_000; // times the fairness scale, it stays within a 32-bit integer
// pg-boss keeps a job that never started for 14 days; a window must close before that.
const MAX_COMPLETION_WINDOW_SECONDS = 7 * 24 * 3600; // 7 days
const MAX_RETENTION_SECONDS = 366 * 24 * 3600; // a year

function validate(deps: SubmitDeps, input: SubmitBatchInput): NewTask[] {
  const { tasks } = input;
  if (tasks.length === 0) throw clientError(ErrorCode.BAD_USER_INPUT, "a batch needs at least one task");
  if (tasks.length > deps.maxTasksPerBatch) {
    throw clientError(ErrorCode.BATCH_TOO_LARGE, `a batch holds at most ${deps.maxTasksPerBatch} tasks; this one has ${tasks.length}`, {
      maxTasksPerBatch: deps.maxTasksPerBatch,
    });
  }
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
  const metadata = input.metadata == null ? undefined : boundedJson(input.metadata, deps.maxMetadataBytes, "MAX_METADATA_BYTES");
  if (metadata && "problem" in metadata) throw clientError(ErrorCode.BAD_USER_INPUT, `metadata ${metadata.problem}`);
  if (input.completionWindowSeconds != null && (input.completionWindowSeconds < 1 || input.completionWindowSeconds > MAX_COMPLETION_WINDOW_SECONDS)) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `completionWindowSeconds must be between 1 and ${MAX_COMPLETION_WINDOW_SECONDS}`);
  }
  if (input.retentionSeconds != null && (input.retentionSeconds < 0 || input.retentionSeconds > MAX_RETENTION_SECONDS)) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `retentionSeconds must be between 0 and ${MAX_RETENTION_SECONDS}`);
  }

  const errors: TaskErrorDetail[] = [];
  let errorCount = 0;
  const report = (index: number, message: string) => {
    errorCount++;
    if (errors.length < MAX_TASK_ERRORS) errors.push({ index, message });
  };
  const seenCustomIds = new Map<string, number>();
  const valid: NewTask[] = [];
  tasks.forEach((task, index) => {
    const customId = task.customId ?? null;
    if (customId !== null) {
      const first = seenCustomIds.get(customId);
      if (customId.length === 0 || customId.length > MAX_CUSTOM_ID_LENGTH) {
        return report(index, `customId must be 1 to ${MAX_CUSTOM_ID_LENGTH} characters`);
      }
      const problem = textProblem(customId);
      if (problem) return report(index, `customId ${problem}`);
      if (first !== undefined) return report(index, `customId "${customId}" duplicates task ${first}`);
      seenCustomIds.set(customId, index);
    }
    const kind = deps.kinds.get(task.kind);
    if (!kind) return report(index, `unknown task kind "${task.kind}"`);
    const bounded = boundedJson(task.input, deps.maxTaskInputBytes, "MAX_TASK_INPUT_BYTES");
    if ("problem" in bounded) return report(index, `input ${bounded.problem}`);
    const parsed = kind.input.safeParse(task.input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
      return report(index, `invalid input for kind "${task.kind}": ${issues.join("; ")}`);
    }
    // The input is stored as given; the worker parses it again (applying defaults) when it runs.
    valid.push({ id: randomUUID(), index, customId, kind: task.kind, inputJson: bounded.json });
  });
  if (errorCount > 0) throw invalidTasks(errors, errorCount);
  return valid;
}

/**
 * A stable fingerprint of what was asked, so a replayed idempotency key can be told from a reused
 * one. Built from the inputs' JSON that validation already serialised.
 */
function requestHash(input: SubmitBatchInput, tasks: NewTask[]): string {
  const hash = createHash("sha256").update(
    JSON.stringify([input.priority ?? 0, input.metadata ?? null, input.completionWindowSeconds ?? null, input.retentionSeconds ?? null]),
  );
  for (const task of tasks) hash.update(`\n${JSON.stringify([task.kind, task.customId])}${task.inputJson}`);
  return hash.digest("hex");
}

export async function submitBatch(deps: SubmitDeps, owner: string, input: SubmitBatchInput): Promise<BatchRow> {
  const tasks = validate(deps, input);
  const hash = requestHash(input, tasks);
  const idempotencyKey = input.idempotencyKey ?? null;
  const priority = input.priority ?? 0;

  let inserted = false;
  const batch = await withTransaction(deps.pool, async (client) => {
    const batch = await insertBatch(client, {
      owner,
      priority,
      metadata: input.metadata,
      idempotencyKey,
      requestHash: hash,
      total: tasks.length,
      completionWindowSeconds: input.completionWindowSeconds ?? deps.completionWindowSeconds,
      retentionSeconds: input.retentionSeconds ?? deps.retentionSeconds,
    });
    if (!batch) {
      // The key is taken (a concurrent submit with it has committed by now): replay or conflict.
      const existing = await getBatchByIdempotencyKey(client, owner, idempotencyKey ?? "");
      if (!existing) throw new Error("idempotency key conflict without an existing batch");
      if (existing.request_hash !== hash) {
        throw clientError(ErrorCode.IDEMPOTENCY_CONFLICT, `idempotencyKey "${idempotencyKey}" was used for a different request`, {
          batchId: existing.id,
        });
      }
      return existing;
    }
    await insertTasks(client, batch.id, tasks);
    const jobsByKind = new Map<string, JobInsert<TaskJobData>[]>();
    for (const task of tasks) {
      const kind = deps.kinds.get(task.kind)!;
      let jobs = jobsByKind.get(task.kind);
      if (!jobs) jobsByKind.set(task.kind, (jobs = []));
      jobs.push(jobFor(kind, { taskId: task.id, batchId: batch.id }, jobPriority(priority, task.index)));
    }
    const db = bossDb(client);
    for (const [kind, jobs] of jobsByKind) await deps.boss.insert(queueName(kind), jobs, { db });
    await notifyCreated(client, batch);
    inserted = true;
    return batch;
  });
  if (inserted) deps.statistics.inserted(tasks.length);
  return batch;
}
