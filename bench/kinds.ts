// kinds.ts: task kinds the benchmark registers beside the built-ins. Each is a no-op with echo's
// policy (concurrency and batch size 200), plus the one clock reading its scenario needs.
import { z } from "zod";
import { builtinKinds, defineTaskKind } from "../src/index.ts";
import type { AnyTaskKind } from "../src/worker/kind.ts";
import { nowMs } from "./clients.ts";

export const ECHO_POLICY = builtinKinds.find((kind) => kind.name === "echo")!.policy;

export interface Probe {
  kind: AnyTaskKind;
  /** Sample number → when its handler started (nowMs()). */
  started: Map<number, number>;
  /** Resolves when sample `n` has started. */
  waitFor(n: number, timeoutMs: number): Promise<number>;
}

/** `bench.pickup`: input { n }; records when its handler starts. */
export function pickupProbe(): Probe {
  const started = new Map<number, number>();
  const waiters = new Map<number, (at: number) => void>();
  const kind = defineTaskKind({
    name: "bench.pickup",
    input: z.object({ n: z.number().int() }),
    policy: ECHO_POLICY,
    run: ({ n }) => {
      const at = nowMs();
      started.set(n, at);
      waiters.get(n)?.(at);
      return null;
    },
  });
  return {
    kind,
    started,
    waitFor: (n, timeoutMs) => {
      const at = started.get(n);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sample ${n} did not start within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(n, (value) => {
          clearTimeout(timer);
          waiters.delete(n);
          resolve(value);
        });
      });
    },
  };
}

export interface Stamp {
  kind: AnyTaskKind;
  /** Task id → when its handler returned (nowMs()): an upper bound of its commit's start. */
  ended: Map<string, number>;
}

/** `bench.stamp`: any input; records when its handler returns. */
export function stampKind(): Stamp {
  const ended = new Map<string, number>();
  const kind = defineTaskKind({
    name: "bench.stamp",
    input: z.json(),
    policy: ECHO_POLICY,
    run: (input, ctx) => {
      ended.set(ctx.taskId, nowMs());
      return input;
    },
  });
  return { kind, ended };
}

export interface Gate {
  kind: AnyTaskKind;
  /** Resolves once a handler is waiting at the gate (the first fetch has been taken). */
  reached: Promise<void>;
  /** Lets every handler through, now and later; returns when it opened (nowMs()). */
  open(): number;
}

/** `bench.gate`: any input; handlers wait until the gate opens, then return their input. */
export function gateKind(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let isOpen = false;
  const kind = defineTaskKind({
    name: "bench.gate",
    input: z.json(),
    policy: ECHO_POLICY,
    run: async (input) => {
      if (!isOpen) {
        reach();
        await opened;
      }
      return input;
    },
  });
  return {
    kind,
    reached,
    open: () => {
      isOpen = true;
      open();
      return nowMs();
    },
  };
}
