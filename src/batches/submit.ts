// submit.ts: validates a batch, then writes it, its tasks and their pg-boss jobs in ONE transaction.
import { createHash } from "node:crypto";
import type { PgBoss } from "pg-boss";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import type { JobStatistics } from "../db/statistics.ts";
import { clientError, ErrorCode } from "../errors.ts";
import { jobFor, jobPriority, queueName, type TaskJobData } from "../worker/queues.ts";
import type { JobInsert } from "pg-boss";
import type { BatchRow } from "./rows.ts";
import { getBatchByIdempotencyKey } from "./sql/getBatch.ts";
import { insertBatch } from "./sql/insertBatch.ts";
import { insertTasks, type NewTask } from "./sql/insertTasks.ts";
import { notifyCreated } from "./sql/notifyCreated.ts";
import { checkBatchOptions, noTasks, TaskValidator, tooManyTasks, type BatchOptions, type SubmitTaskInput, type ValidationLimits } from "./validation.ts";

export type { SubmitTaskInput } from "./validation.ts";

export interface SubmitBatchInput extends BatchOptions {
  tasks: SubmitTaskInput[];
}

export interface SubmitDeps extends ValidationLimits {
  pool: Pool;
  boss: PgBoss;
  completionWindowSeconds: number;
  retentionSeconds: number;
  /** Told how many jobs each submit inserted. */
  statistics: JobStatistics;
}

/** Tasks whose jobs go into one pg-boss insert. */
const JOB_SLICE = 5_000;

function validate(deps: SubmitDeps, input: SubmitBatchInput): NewTask[] {
  const { tasks } = input;
  if (tasks.length === 0) throw noTasks();
  if (tasks.length > deps.maxTasksPerBatch) throw tooManyTasks(deps.maxTasksPerBatch, tasks.length);
  checkBatchOptions(deps, input);
  const validator = new TaskValidator(deps);
  tasks.forEach((task, index) => validator.add(task, index));
  return validator.finish();
}

/**
 * A stable fingerprint of what was asked, so a replayed idempotency key can be told from a reused
 * one. Built from the inputs' JSON that validation already serialised.
 */
function requestHash(input: BatchOptions, tasks: NewTask[]): string {
  const hash = createHash("sha256").update(
    JSON.stringify([input.priority ?? 0, input.metadata ?? null, input.completionWindowSeconds ?? null, input.retentionSeconds ?? null]),
  );
  // Three updates, not one concatenated string: the same digest, without a copy of every input.
  for (const task of tasks) hash.update("\n").update(JSON.stringify([task.kind, task.customId])).update(task.inputJson);
  return hash.digest("hex");
}

export async function submitBatch(deps: SubmitDeps, owner: string, input: SubmitBatchInput): Promise<BatchRow> {
  return storeBatch(deps, owner, input, validate(deps, input));
}

/** Writes a validated batch (submitBatch's, or submitBatchFile's) with its tasks and their jobs. */
export async function storeBatch(deps: SubmitDeps, owner: string, input: BatchOptions, tasks: NewTask[]): Promise<BatchRow> {
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
    const db = bossDb(client);
    // A slice of tasks at a time: pg-boss sends the jobs of one insert as one JSON text.
    for (let start = 0; start < tasks.length; start += JOB_SLICE) {
      const jobsByKind = new Map<string, JobInsert<TaskJobData>[]>();
      for (const task of tasks.slice(start, start + JOB_SLICE)) {
        const kind = deps.kinds.get(task.kind)!;
        let jobs = jobsByKind.get(task.kind);
        if (!jobs) jobsByKind.set(task.kind, (jobs = []));
        jobs.push(jobFor(kind, { taskId: task.id, batchId: batch.id }, jobPriority(priority, task.index)));
      }
      for (const [kind, jobs] of jobsByKind) await deps.boss.insert(queueName(kind), jobs, { db });
    }
    await notifyCreated(client, batch);
    inserted = true;
    return batch;
  });
  if (inserted) deps.statistics.inserted(tasks.length);
  return batch;
}
