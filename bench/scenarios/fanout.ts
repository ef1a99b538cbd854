// fanout.ts: many graphql-ws subscribers on one batch. A gate holds the batch's first fetch, so
// the subscribers connect to a batch that is running but idle: the server's memory before and
// after gives the cost of an idle subscriber. Then the gate opens and N no-op tasks drain while
// every subscriber receives events; the same run without subscribers is the baseline.
// The subscribers live in a child process (bench/subscribers.ts): their memory is not ours.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getBatch, nowMs } from "../clients.ts";
import { processCpuMs } from "../database.ts";
import { startBatchwire } from "../batchwire.ts";
import { gateKind } from "../kinds.ts";
import { settledMemory, type MemorySample } from "../memory.ts";
import { withTimeout } from "../raw.ts";
import { epochMs, perSecond, sleep, type Scenario } from "../scenario.ts";
import { runBatchAsync } from "./batchRun.ts";

const SUBSCRIBERS_SCRIPT = fileURLToPath(new URL("../subscribers.ts", import.meta.url));

interface ChildMessage {
  type: "ready" | "done";
  ms?: number;
  events?: number;
  minEvents?: number;
  maxEvents?: number;
}

function nextMessage(child: ChildProcess, type: ChildMessage["type"], timeoutMs: number): Promise<ChildMessage> {
  return withTimeout(
    new Promise<ChildMessage>((resolve, reject) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type !== type) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`subscribers process exited (${code}) before "${type}"`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    }),
    timeoutMs,
    `subscribers "${type}"`,
  );
}

interface Phase {
  tasksPerSecond: number;
  drainMs: number;
  /** The batch was not done within the cap; the rate is of the tasks done by then. */
  capped: boolean;
  /** CPU used across the drain, in ms: this (the server's) process, and the subscribers' process. */
  serverCpuMs: number;
  subscribersCpuMs?: number;
  memory?: { before: MemorySample; after: MemorySample; connectMs: number };
  events?: { total: number; minPerSubscriber: number; maxPerSubscriber: number };
}

const FINAL = new Set(["COMPLETED", "CANCELED", "EXPIRED"]);

async function phase(context: Parameters<Scenario["run"]>[0], subscribers: number): Promise<Phase> {
  const { db, tasks } = context;
  // Subscribers can slow the drain a lot; past the cap the rate is taken from the tasks done so far.
  const capMs = context.quick ? 30_000 : 90_000;
  const gate = gateKind();
  const server = await startBatchwire(await db.freshDatabase(subscribers ? "fanout" : "fanout_none"), [gate.kind]);
  let child: ChildProcess | undefined;
  try {
    const running = await runBatchAsync(server.url, gate.kind.name, tasks);
    await withTimeout(gate.reached, 30_000, "the first fetch to reach the gate");
    let memory: Phase["memory"];
    if (subscribers > 0) {
      await sleep(200);
      const before = await settledMemory();
      child = fork(SUBSCRIBERS_SCRIPT, [server.wsUrl, running.batchId, String(subscribers)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const ready = await nextMessage(child, "ready", 120_000);
      await sleep(500); // let the last handshakes' garbage become garbage
      const after = await settledMemory();
      memory = { before, after, connectMs: ready.ms ?? Number.NaN };
    }
    const cpu = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
    const cpuBefore = cpu();
    const childCpuBefore = child?.pid ? await processCpuMs(child.pid) : undefined;
    const openedAt = gate.open();
    const done = child ? nextMessage(child, "done", capMs + 60_000) : undefined;
    done?.catch(() => undefined);
    let drainMs: number;
    let finished: number;
    for (;;) {
      await sleep(100);
      const batch = await getBatch(server.url, running.batchId);
      if (FINAL.has(batch.status)) {
        drainMs = epochMs(batch.finishedAt) - openedAt;
        finished = batch.counts.succeeded;
        break;
      }
      if (nowMs() - openedAt > capMs) {
        drainMs = nowMs() - openedAt;
        finished = batch.counts.succeeded;
        break;
      }
    }
    const capped = finished < tasks;
    const childCpuAfter = child?.pid ? await processCpuMs(child.pid) : undefined;
    const result: Phase = {
      tasksPerSecond: perSecond(finished, drainMs),
      drainMs,
      capped,
      memory,
      serverCpuMs: cpu() - cpuBefore,
      subscribersCpuMs: childCpuAfter !== undefined && childCpuBefore !== undefined ? childCpuAfter - childCpuBefore : undefined,
    };
    if (capped) return result;
    if (done) {
      const message = await done;
      result.events = { total: message.events ?? 0, minPerSubscriber: message.minEvents ?? 0, maxPerSubscriber: message.maxEvents ?? 0 };
    }
    return result;
  } finally {
    if (child && child.exitCode === null) child.kill();
    await server.stop();
  }
}

export const fanout: Scenario = {
  name: "fanout",
  async run(context) {
    const subscribers = context.quick ? 100 : 1_000;
    const without = await phase(context, 0);
    context.progress(`fan-out: no subscribers ${without.tasksPerSecond.toFixed(0)} tasks/s${without.capped ? " (capped)" : ""}`);
    const withSubscribers = await phase(context, subscribers);
    const memory = withSubscribers.memory!;
    // JS heap plus off-heap buffers, after a full GC. RSS is kept in the details only: this
    // process has run other scenarios, and their freed pages absorb new allocations unseen.
    const bytes = (m: MemorySample) => m.heapUsed + m.external;
    const perSubscriberKB = (bytes(memory.after) - bytes(memory.before)) / subscribers / 1024;
    context.progress(
      `fan-out: ${subscribers} subscribers ${withSubscribers.tasksPerSecond.toFixed(0)} tasks/s${withSubscribers.capped ? " (capped)" : ""}, ` +
        `${perSubscriberKB.toFixed(1)} KB each; CPU server ${(withSubscribers.serverCpuMs / 1000).toFixed(1)} s, subscribers ${((withSubscribers.subscribersCpuMs ?? Number.NaN) / 1000).toFixed(1)} s over ${(withSubscribers.drainMs / 1000).toFixed(1)} s`,
    );
    const ratio = withSubscribers.tasksPerSecond / without.tasksPerSecond;
    return {
      rows: [
        {
          id: "fanout.memoryPerIdleSubscriberKB",
          figure: `fan-out: memory per idle subscriber (${subscribers}; heap + external)`,
          unit: "KB",
          value: perSubscriberKB,
          target: "≤ 50 KB",
          met: perSubscriberKB <= 50,
        },
        {
          id: "fanout.tasksPerSecond",
          figure: `fan-out: throughput with ${subscribers} subscribers (vs none)${withSubscribers.capped || without.capped ? ", capped" : ""}`,
          unit: "tasks/s",
          value: withSubscribers.tasksPerSecond,
          baseline: without.tasksPerSecond,
          ratio,
          target: "≥ 0.9x",
          met: ratio >= 0.9,
        },
      ],
      details: { subscribers, without, with: withSubscribers },
    };
  },
};
