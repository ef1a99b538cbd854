// kinds.ts: the chaos run's task kinds (TASK_KINDS_MODULE=chaos/kinds.ts), written as a user
// would, against batchwire's library surface only. Each handler records its start and end
// (execution id, attempt, pid) in CHAOS_EXECUTIONS_DIR, and puts its execution id in its result
// or error, so the checks can tie every recorded outcome to the handler run that produced it.
//
// Short timeouts on purpose: a task whose last attempt died with its worker is settled by the
// abandoned-task sweep after timeoutSeconds + 60 s + 2 x HEARTBEAT_SECONDS + the supervise
// interval, and that has to fit in the run's settle time.
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineTaskKind, TaskError, type TaskContext } from "../src/index.ts";
import { ExecutionLog } from "./executions.ts";

const dir = process.env.CHAOS_EXECUTIONS_DIR;
if (!dir) throw new Error("chaos/kinds.ts records executions in CHAOS_EXECUTIONS_DIR, which is not set");
const log = new ExecutionLog(dir);

/** Wraps a handler so that its start and its end are recorded around it. */
function recorded<I, O>(kind: string, run: (input: I, ctx: TaskContext, execution: string) => Promise<O>) {
  return async (input: I, ctx: TaskContext): Promise<O & { execution: string; attempt: number }> => {
    const execution = log.start({ task: ctx.taskId, batch: ctx.batchId, kind, attempt: ctx.attempt });
    try {
      const result = await run(input, ctx, execution);
      log.end(execution, "succeeded");
      return { ...result, execution, attempt: ctx.attempt };
    } catch (error) {
      log.end(execution, ctx.signal.aborted ? "aborted" : "failed");
      throw error;
    }
  };
}

/** Sleeps `ms` in up to 10 steps, reporting progress, until `signal` aborts. */
async function sleepWithProgress(ms: number, ctx: TaskContext): Promise<void> {
  const steps = Math.max(1, Math.min(10, Math.floor(ms / 100)));
  for (let step = 1; step <= steps; step++) {
    await sleep(ms / steps, undefined, { signal: ctx.signal });
    ctx.progress(step / steps);
  }
}

const retries = { retryLimit: 2, retryDelaySeconds: 1, retryBackoff: false, retryDelayMaxSeconds: null };

export const echo = defineTaskKind({
  name: "chaos.echo",
  description: "Returns its input, with the execution that ran it.",
  input: z.json(),
  policy: { ...retries, concurrency: 20, batchSize: 10, timeoutSeconds: 5 },
  run: recorded("chaos.echo", async (input) => ({ echo: input })),
});

export const sleepKind = defineTaskKind({
  name: "chaos.sleep",
  description: "Waits `ms` milliseconds, reporting progress.",
  input: z.object({ ms: z.number().int().min(0).max(8_000) }).strict(),
  policy: { ...retries, concurrency: 8, batchSize: 2, timeoutSeconds: 10 },
  run: recorded("chaos.sleep", async ({ ms }: { ms: number }, ctx) => {
    await sleepWithProgress(ms, ctx);
    return { sleptMs: ms };
  }),
});

export const fail = defineTaskKind({
  name: "chaos.fail",
  description: "Works `ms` milliseconds, then fails its first `times` attempts; succeeds after that.",
  input: z.object({ times: z.number().int().min(0).max(10), ms: z.number().int().min(0).max(2_000) }).strict(),
  policy: { ...retries, concurrency: 6, batchSize: 2, timeoutSeconds: 5 },
  run: recorded("chaos.fail", async ({ times, ms }: { times: number; ms: number }, ctx, execution) => {
    await sleep(ms, undefined, { signal: ctx.signal });
    if (ctx.attempt <= times) throw new TaskError(`planned failure of attempt ${ctx.attempt} (execution ${execution})`, "PLANNED_FAILURE");
    return { failedFirst: times };
  }),
});

/** Always runs past its 1 s timeout: it may only ever end FAILED (TIMEOUT), never SUCCEEDED. */
export const timeout = defineTaskKind({
  name: "chaos.timeout",
  description: "Sleeps `ms` milliseconds against a timeout of 1 s.",
  input: z.object({ ms: z.number().int().min(1_500).max(8_000) }).strict(),
  policy: { retryLimit: 1, retryDelaySeconds: 1, retryBackoff: false, retryDelayMaxSeconds: null, concurrency: 4, batchSize: 1, timeoutSeconds: 1 },
  run: recorded("chaos.timeout", async ({ ms }: { ms: number }, ctx) => {
    await sleep(ms, undefined, { signal: ctx.signal });
    return { sleptMs: ms };
  }),
});
