// kind.ts: what a task kind is (input schema, handler, policy) and defineTaskKind to make one.
import { z } from "zod";
import type { Logger } from "../logger.ts";

export interface TaskPolicy {
  /** Seconds one attempt may run before its signal is aborted and pg-boss fails it. */
  timeoutSeconds: number;
  /** Retries after the first attempt; 2 means at most 3 attempts. */
  retryLimit: number;
  /** Seconds before a retry (the base of the backoff when `retryBackoff`). */
  retryDelaySeconds: number;
  retryBackoff: boolean;
  /** Upper bound of a backed-off delay, in seconds. */
  retryDelayMaxSeconds: number | null;
  /** Tasks of this kind running at once in one worker process. */
  concurrency: number;
  /**
   * Jobs taken per fetch. concurrency / batchSize fetch loops run per worker process; a loop
   * fetches again when all of its batch is done, so long tasks want small batches.
   */
  batchSize: number;
}

export interface TaskContext {
  /** Aborted on timeout, cancellation or shutdown. */
  signal: AbortSignal;
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
  taskId: string;
  batchId: string;
  customId: string | null;
  /** Reports progress in [0, 1]; calls are coalesced, not written one by one. */
  progress(fraction: number): void;
  log: Logger;
}

export interface TaskKind<Input = unknown, Output = unknown> {
  name: string;
  description: string | null;
  input: z.ZodType<Input>;
  policy: TaskPolicy;
  run(input: Input, ctx: TaskContext): Promise<Output> | Output;
}

// Erases Input so kinds of different inputs sit in one registry.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTaskKind = TaskKind<any, unknown>;

export const DEFAULT_POLICY: TaskPolicy = {
  timeoutSeconds: 300, // 5 minutes
  retryLimit: 2,
  retryDelaySeconds: 5,
  retryBackoff: true,
  retryDelayMaxSeconds: 300,
  concurrency: 10,
  batchSize: 3,
};

const KIND_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export interface TaskKindDefinition<S extends z.ZodType, Output> {
  name: string;
  description?: string;
  input: S;
  policy?: Partial<TaskPolicy>;
  run(input: z.output<S>, ctx: TaskContext): Promise<Output> | Output;
}

/** Defines a task kind; the handler's `input` is typed by the zod schema. */
export function defineTaskKind<S extends z.ZodType, Output>(
  definition: TaskKindDefinition<S, Output>,
): TaskKind<z.output<S>, Output> {
  if (!KIND_NAME.test(definition.name)) {
    throw new Error(`task kind name "${definition.name}" must match ${KIND_NAME}`);
  }
  const concurrency = definition.policy?.concurrency ?? DEFAULT_POLICY.concurrency;
  const policy: TaskPolicy = {
    ...DEFAULT_POLICY,
    // Four fetch loops by default: a slow task holds up only its own loop's next fetch.
    batchSize: Math.max(1, Math.ceil(concurrency / 4)),
    ...definition.policy,
  };
  for (const key of ["timeoutSeconds", "concurrency", "batchSize"] as const) {
    if (!Number.isInteger(policy[key]) || policy[key] < 1) {
      throw new Error(`task kind "${definition.name}": policy.${key} must be a positive integer`);
    }
  }
  for (const key of ["retryLimit", "retryDelaySeconds"] as const) {
    if (!Number.isInteger(policy[key]) || policy[key] < 0) {
      throw new Error(`task kind "${definition.name}": policy.${key} must be an integer >= 0`);
    }
  }
  return {
    name: definition.name,
    description: definition.description ?? null,
    input: definition.input as z.ZodType<z.output<S>>,
    policy,
    run: definition.run,
  };
}

/** An error a handler throws to give the task's `error.code`. Other errors get `HANDLER_ERROR`. */
export class TaskError extends Error {
  override name = "TaskError";
  readonly code: string;
  constructor(message: string, code = "HANDLER_ERROR") {
    super(message);
    this.code = code;
  }
}
