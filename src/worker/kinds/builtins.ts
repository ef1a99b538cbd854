// builtins.ts: the kinds batchwire ships for demos, tests and benchmarks.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineTaskKind, TaskError, type AnyTaskKind, type TaskContext } from "../kind.ts";

/** Waits `ms`, reporting progress up to 10 times on the way; stops on ctx.signal. */
async function waitReporting(ms: number, ctx: TaskContext): Promise<void> {
  const steps = Math.max(1, Math.min(10, Math.floor(ms / 100)));
  for (let step = 1; step <= steps; step++) {
    await sleep(ms / steps, undefined, { signal: ctx.signal });
    ctx.progress(step / steps);
  }
}

export const echo = defineTaskKind({
  name: "echo",
  description: "Returns its input unchanged.",
  input: z.json(),
  policy: { concurrency: 200, batchSize: 100 },
  run: (input) => input,
});

export const sleepKind = defineTaskKind({
  name: "sleep",
  description: "Waits `ms` milliseconds, reporting progress, then returns { sleptMs }.",
  input: z.object({ ms: z.number().int().min(0).max(3_600_000) }).strict(),
  policy: { concurrency: 50, batchSize: 5, timeoutSeconds: 3_700 },
  async run({ ms }, ctx) {
    await waitReporting(ms, ctx);
    return { sleptMs: ms };
  },
});

export const fail = defineTaskKind({
  name: "fail",
  description: "Fails its first `times` attempts with `message`, then succeeds; each attempt first waits `ms`.",
  input: z
    .object({
      times: z.number().int().min(0).max(100).default(1),
      message: z.string().max(1_000).default("planned failure"),
      // A wait makes a failure and its retry slow enough to watch (GraphiQL's demo).
      ms: z.number().int().min(0).max(60_000).default(0),
    })
    .strict(),
  policy: { retryLimit: 2, retryDelaySeconds: 1, retryBackoff: false, retryDelayMaxSeconds: null },
  async run({ times, message, ms }, ctx) {
    if (ms > 0) await waitReporting(ms, ctx);
    if (ctx.attempt <= times) throw new TaskError(message, "PLANNED_FAILURE");
    return { attempts: ctx.attempt };
  },
});

export const sha256 = defineTaskKind({
  name: "sha256",
  description: "Hashes `text` with SHA-256 `rounds` times (CPU work); returns { hex }.",
  input: z
    .object({
      text: z.string().max(1_000_000),
      rounds: z.number().int().min(1).max(1_000_000).default(1),
    })
    .strict(),
  policy: { concurrency: 4, batchSize: 1 },
  run({ text, rounds }) {
    let digest: string = text;
    for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex");
    return { hex: digest };
  },
});

export const builtinKinds: AnyTaskKind[] = [echo, sleepKind, fail, sha256];
