// chaosChecks.test.ts: the chaos run's checks (chaos/checks.ts) fail on each broken invariant they
// claim to watch (a task left running, a counter off, a lost task, a run past the retry limit, an
// outcome no execution produced, a missing final event, an event that goes back), and pass on a
// healthy run, including a task re-run uncharged after a SIGKILL.
import { describe, expect, it } from "vitest";
import { runChecks, type Facts } from "../chaos/checks.ts";
import type { Execution } from "../chaos/executions.ts";
import { Subscriber, type Counts, type ProgressEvent } from "../chaos/subscribers.ts";
import type { TaskRow } from "../chaos/tables.ts";

const BATCH = "b1";
const counts = (c: Partial<Counts>): Counts => ({ total: 0, queued: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, canceled: 0, expired: 0, ...c });

function event(version: number, status: string, c: Partial<Counts>, changedTasks: ProgressEvent["changedTasks"] = []): ProgressEvent {
  return { batch: { id: BATCH, status, version, progress: 0, counts: counts(c) }, changedTasks, changedTasksTruncated: false };
}

function run(id: string, task: string, attempt: number, pid: number, outcome: Execution["outcome"]): Execution {
  return { execution: id, task, batch: BATCH, kind: "chaos.echo", attempt, pid, startedAt: 0, outcome };
}

/** A healthy run: one batch of two echo tasks, both SUCCEEDED, watched to its final event. */
function healthy(): Facts {
  const tasks: TaskRow[] = [
    { id: "t1", batchId: BATCH, kind: "chaos.echo", status: "SUCCEEDED", attempts: 1, input: 1, result: { execution: "10:1" }, error: null },
    { id: "t2", batchId: BATCH, kind: "chaos.echo", status: "SUCCEEDED", attempts: 1, input: 2, result: { execution: "10:2" }, error: null },
  ];
  const subscriber = new Subscriber(BATCH, 0);
  subscriber.record(event(1, "QUEUED", { total: 2, queued: 2 }));
  subscriber.record(event(3, "COMPLETED", { total: 2, succeeded: 2 }, [{ id: "t1", status: "SUCCEEDED" }, { id: "t2", status: "SUCCEEDED" }]));
  subscriber.completed = true;
  return {
    tables: {
      batches: new Map([[BATCH, { id: BATCH, status: "COMPLETED", counters: counts({ total: 2, succeeded: 2 }) }]]),
      tasks,
      countsByBatch: new Map([[BATCH, { SUCCEEDED: 2 }]]),
    },
    submitted: [{ id: BATCH, seq: 1, scenario: "mixed", idempotencyKey: "k", tasks: 2, byKind: { "chaos.echo": 2 }, completionWindowSeconds: undefined, canceled: undefined }],
    requestFailures: [],
    executions: [run("10:1", "t1", 1, 10, "succeeded"), run("10:2", "t2", 1, 10, "succeeded")],
    retryLimits: new Map([["chaos.echo", 2]]),
    interruptedPids: new Set(),
    subscribers: [subscriber],
    deaths: [],
  };
}

/** The names of the checks that found problems. */
function failing(facts: Facts): string[] {
  return runChecks(facts)
    .filter((r) => r.problems.length > 0)
    .map((r) => r.name);
}

describe("the chaos run's checks", () => {
  it("pass on a healthy run", () => {
    expect(failing(healthy())).toEqual([]);
  });

  it("fail when a task is left running and its batch unfinished", () => {
    const facts = healthy();
    facts.tables.tasks[1]!.status = "RUNNING";
    facts.tables.countsByBatch.set(BATCH, { SUCCEEDED: 1, RUNNING: 1 });
    facts.tables.batches.get(BATCH)!.status = "RUNNING";
    expect(failing(facts)).toEqual(expect.arrayContaining(["every task final exactly once", "counters equal count(*) by status"]));
  });

  it("fail when a counter differs from count(*)", () => {
    const facts = healthy();
    facts.tables.batches.get(BATCH)!.counters.succeeded = 3;
    expect(failing(facts)).toEqual(["counters equal count(*) by status"]);
  });

  it("fail when a batch ends in a status its history does not call for", () => {
    const facts = healthy();
    facts.tables.batches.get(BATCH)!.status = "CANCELED";
    expect(failing(facts)).toContain("every task final exactly once");
  });

  it("fail when a submitted task is missing, or a retried submit made a second batch", () => {
    const lost = healthy();
    lost.tables.tasks.pop();
    expect(failing(lost)).toContain("no task lost");
    const doubled = healthy();
    doubled.tables.batches.set("b2", { id: "b2", status: "COMPLETED", counters: counts({}) });
    expect(failing(doubled)).toContain("no task lost");
  });

  it("fail when a task runs more often than its retry limit allows, unless a SIGKILL cut a run short", () => {
    const facts = healthy();
    facts.executions.push(run("11:1", "t1", 1, 11, "failed"), run("11:2", "t1", 2, 11, "failed"), run("12:1", "t1", 3, 12, undefined));
    expect(failing(facts)).toEqual(["no task run past its kind's retry limit"]);
    facts.interruptedPids.add(12); // the fourth run's process was SIGKILLed: one uncharged run is allowed
    expect(failing(facts)).toEqual([]);
  });

  it("fail when an attempt number passes the retry limit", () => {
    const facts = healthy();
    facts.executions[0]!.attempt = 4;
    expect(failing(facts)).toEqual(["no task run past its kind's retry limit"]);
  });

  it("fail when a SUCCEEDED task's result was produced by no successful execution", () => {
    const facts = healthy();
    facts.executions[1]!.outcome = "failed";
    expect(failing(facts)).toEqual(["every SUCCEEDED task has a recorded successful execution"]);
  });

  it("fail when a subscriber never got its final event, or got one that disagrees with the tables", () => {
    const missing = healthy();
    missing.subscribers[0]!.completed = false;
    expect(failing(missing)).toEqual(["every subscriber got its batch's final event"]);
    const wrong = healthy();
    wrong.tables.batches.get(BATCH)!.counters.succeeded = 1;
    wrong.tables.batches.get(BATCH)!.counters.failed = 1;
    wrong.tables.countsByBatch.set(BATCH, { SUCCEEDED: 1, FAILED: 1 });
    expect(failing(wrong)).toContain("every subscriber got its batch's final event");
  });

  it("fail when events go back or a final task changes", () => {
    const facts = healthy();
    const subscriber = facts.subscribers[0]!;
    subscriber.record(event(2, "COMPLETED", { total: 2, succeeded: 1, failed: 1 }, [{ id: "t1", status: "RUNNING" }]));
    expect(failing(facts)).toContain("every event consistent (counts add up, nothing goes back, no final task changes)");
    expect(subscriber.anomalies.join("\n")).toMatch(/version went from 3 to 2[\s\S]*succeeded went from 2 to 1[\s\S]*task t1 was SUCCEEDED, then listed again as RUNNING/);
  });

  it("fail when a final task is listed again, even with the same status (its outcome was overwritten)", () => {
    const facts = healthy();
    facts.subscribers[0]!.record(event(4, "COMPLETED", { total: 2, succeeded: 2 }, [{ id: "t2", status: "SUCCEEDED" }]));
    expect(failing(facts)).toEqual(["every event consistent (counts add up, nothing goes back, no final task changes)"]);
  });

  it("accept the repeated snapshot a resubscribed stream starts with", () => {
    const facts = healthy();
    const subscriber = facts.subscribers[0]!;
    subscriber.restarted();
    subscriber.record(event(3, "COMPLETED", { total: 2, succeeded: 2 }));
    expect(failing(facts)).toEqual([]);
  });

  it("fail when a batchwire process died on its own", () => {
    const facts = healthy();
    facts.deaths.push({ process: "worker-1", pid: 42, code: 1, signal: null, logFile: "worker-1.1.log" });
    expect(failing(facts)).toEqual(["no batchwire process died on its own"]);
  });
});
