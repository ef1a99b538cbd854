// checks.ts: the chaos run's verdict, from what outsiders can see: the batch and task tables, the
// chaos kinds' own record of every execution, what each subscriber received, and what the run
// itself did (the batches it submitted and canceled, the pids it SIGKILLed).
//
// Execution is at least once and accounting exactly once. So a task may run more often than it
// is counted, but only in one way: a run cut off from the database by its process (SIGKILLed
// before its outcome was written, or SIGSTOPped past its heartbeat so that its task ran again
// elsewhere) may be followed by one run that is not charged against the retry limit. A task may
// thus have at most retryLimit + 1 recorded executions, plus one for each SIGKILLed or SIGSTOPped
// process that ran it. Every other bound is strict: no execution's ctx.attempt and no task's
// `attempts` above retryLimit + 1, and no recorded outcome that no execution produced.
import type { Execution } from "./executions.ts";
import type { ProcessDeath } from "./cluster.ts";
import { COUNTERS, FINAL_BATCH, FINAL_TASK, type Subscriber } from "./subscribers.ts";
import type { Tables, TaskRow } from "./tables.ts";
import type { SubmittedBatch } from "./workload.ts";

export interface Facts {
  tables: Tables;
  submitted: SubmittedBatch[];
  /** Submits and cancels that never got through. */
  requestFailures: string[];
  executions: Execution[];
  retryLimits: Map<string, number>;
  /** Processes the run SIGKILLed or SIGSTOPped. */
  interruptedPids: Set<number>;
  subscribers: Subscriber[];
  deaths: ProcessDeath[];
}

export interface CheckResult {
  name: string;
  problems: string[];
  summary: string;
}

const tally = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
};

function finalExactlyOnce(f: Facts): CheckResult {
  const problems: string[] = [];
  for (const task of f.tables.tasks) {
    if (!FINAL_TASK.has(task.status)) problems.push(`task ${task.id} (${task.kind}) of batch ${task.batchId} is ${task.status}`);
  }
  for (const sent of f.submitted) {
    const row = f.tables.batches.get(sent.id);
    if (!row) continue; // "no task lost" reports it
    const expired = f.tables.countsByBatch.get(sent.id)?.EXPIRED ?? 0;
    const canceled = sent.canceled === "CANCELING" || sent.canceled === "CANCELED";
    const expected = canceled ? "CANCELED" : expired > 0 ? "EXPIRED" : "COMPLETED";
    if (row.status !== expected) {
      const why = canceled ? `cancelBatch answered ${sent.canceled}` : `${expired} expired tasks${sent.canceled ? `, cancelBatch answered ${sent.canceled}` : ""}`;
      problems.push(`batch ${sent.id} (${sent.scenario}) ended ${row.status}, expected ${expected} (${why})`);
    }
    if (sent.completionWindowSeconds === undefined && expired > 0) problems.push(`batch ${sent.id} has ${expired} EXPIRED tasks within a 24 h window`);
  }
  const batches = [...f.tables.batches.values()].map((b) => b.status);
  return {
    name: "every task final exactly once",
    problems,
    summary: `${f.tables.tasks.length} tasks: ${tally(f.tables.tasks.map((t) => t.status))}; batches: ${tally(batches)}`,
  };
}

function countersMatch(f: Facts): CheckResult {
  const problems: string[] = [];
  for (const row of f.tables.batches.values()) {
    const counts = f.tables.countsByBatch.get(row.id) ?? {};
    for (const status of Object.keys(counts)) {
      if (!(COUNTERS as readonly string[]).includes(status.toLowerCase())) problems.push(`batch ${row.id}: tasks in status ${status}, which has no counter`);
    }
    const actual = { total: Object.values(counts).reduce((a, b) => a + b, 0), ...Object.fromEntries(COUNTERS.map((k) => [k, counts[k.toUpperCase()] ?? 0])) };
    for (const [key, n] of Object.entries(actual)) {
      const stored = row.counters[key as keyof typeof row.counters];
      if (stored === undefined) problems.push(`batch ${row.id}: no counter column "${key}"`);
      else if (stored !== n) problems.push(`batch ${row.id}: ${key} = ${stored}, count(*) = ${n}`);
    }
  }
  return { name: "counters equal count(*) by status", problems, summary: `${f.tables.batches.size} batches` };
}

function noTaskLost(f: Facts): CheckResult {
  const problems = [...f.requestFailures];
  const kindsByBatch = new Map<string, Record<string, number>>();
  for (const task of f.tables.tasks) {
    const kinds = kindsByBatch.get(task.batchId) ?? {};
    kinds[task.kind] = (kinds[task.kind] ?? 0) + 1;
    kindsByBatch.set(task.batchId, kinds);
  }
  const sentIds = new Set(f.submitted.map((b) => b.id));
  for (const sent of f.submitted) {
    if (!f.tables.batches.has(sent.id)) {
      problems.push(`batch ${sent.id} (${sent.scenario}, ${sent.tasks} tasks) is gone`);
      continue;
    }
    const stored = kindsByBatch.get(sent.id) ?? {};
    for (const kind of new Set([...Object.keys(sent.byKind), ...Object.keys(stored)])) {
      if ((sent.byKind[kind] ?? 0) !== (stored[kind] ?? 0)) {
        problems.push(`batch ${sent.id}: ${sent.byKind[kind] ?? 0} ${kind} tasks submitted, ${stored[kind] ?? 0} in the table`);
      }
    }
  }
  for (const id of f.tables.batches.keys()) {
    if (!sentIds.has(id)) problems.push(`batch ${id} is in the table but no submitBatch returned it (a retried submit made a second batch?)`);
  }
  const tasks = f.submitted.reduce((n, b) => n + b.tasks, 0);
  return { name: "no task lost", problems, summary: `${f.submitted.length} batches and ${tasks} tasks submitted, ${f.tables.tasks.length} tasks stored` };
}

function retryLimits(f: Facts): CheckResult {
  const problems: string[] = [];
  const byTask = Map.groupBy(f.executions, (e) => e.task);
  const taskIds = new Set(f.tables.tasks.map((t) => t.id));
  let excused = 0;
  let most = 0;
  for (const task of f.tables.tasks) {
    const limit = f.retryLimits.get(task.kind);
    if (limit === undefined) {
      problems.push(`task ${task.id}: kind ${task.kind} is not in taskKinds`);
      continue;
    }
    const runs = byTask.get(task.id) ?? [];
    most = Math.max(most, runs.length);
    const interrupted = new Set(runs.filter((e) => f.interruptedPids.has(e.pid)).map((e) => e.pid)).size;
    if (runs.length > limit + 1 + interrupted) {
      problems.push(`task ${task.id} (${task.kind}, retryLimit ${limit}) ran ${runs.length} times, ${interrupted} of its processes interrupted: ${describeRuns(runs)}`);
    } else if (runs.length > limit + 1) excused++;
    for (const run of runs) {
      if (run.attempt > limit + 1) problems.push(`task ${task.id} (${task.kind}, retryLimit ${limit}) ran an attempt ${run.attempt} (execution ${run.execution})`);
    }
    if (task.attempts > limit + 1) problems.push(`task ${task.id} (${task.kind}, retryLimit ${limit}) counts ${task.attempts} attempts`);
    if (task.status === "SUCCEEDED" && mustFail(task, limit)) problems.push(`task ${task.id} (${task.kind}) SUCCEEDED though each of its ${limit + 1} attempts must fail`);
  }
  for (const run of f.executions) {
    if (!taskIds.has(run.task)) problems.push(`execution ${run.execution} ran task ${run.task}, which is not in the task table`);
  }
  const cut = f.executions.filter((e) => e.outcome === undefined).length;
  return {
    name: "no task run past its kind's retry limit",
    problems,
    summary:
      `${f.executions.length} executions (${tally(f.executions.map((e) => e.outcome ?? "cut short"))}), at most ${most} of one task; ` +
      `${excused} tasks over retryLimit + 1 by a run a SIGKILL or SIGSTOP cut off (${cut} runs cut short)`,
  };
}

/** chaos.timeout always runs past its timeout; chaos.fail with more planned failures than attempts always fails. */
function mustFail(task: TaskRow, limit: number): boolean {
  if (task.kind === "chaos.timeout") return true;
  const times = (task.input as { times?: unknown } | null)?.times;
  return task.kind === "chaos.fail" && typeof times === "number" && times > limit;
}

function describeRuns(runs: Execution[]): string {
  return runs.map((r) => `#${r.attempt} pid ${r.pid} ${r.outcome ?? "cut short"}`).join(", ");
}

function recordedOutcomes(f: Facts): CheckResult {
  const problems: string[] = [];
  const byId = new Map(f.executions.map((e) => [e.execution, e]));
  let planned = 0;
  let succeeded = 0;
  const tie = (task: TaskRow, execution: string | undefined, outcome: "succeeded" | "failed") => {
    const run = execution === undefined ? undefined : byId.get(execution);
    if (!run) problems.push(`task ${task.id} is ${task.status}, but no recorded execution ${execution ?? "(none named)"} produced that`);
    else if (run.task !== task.id) problems.push(`task ${task.id} is ${task.status} with the outcome of execution ${execution}, which ran task ${run.task}`);
    else if (run.outcome !== outcome) problems.push(`task ${task.id} is ${task.status}, but execution ${execution} ${run.outcome ?? "was cut short"}`);
  };
  for (const task of f.tables.tasks) {
    if (task.status === "SUCCEEDED") {
      succeeded++;
      tie(task, (task.result as { execution?: string } | null)?.execution, "succeeded");
    } else if (task.status === "FAILED" && task.error?.code === "PLANNED_FAILURE") {
      planned++;
      tie(task, /execution (\d+:\d+)/.exec(task.error.message ?? "")?.[1], "failed");
    }
  }
  const failed = f.tables.tasks.filter((t) => t.status === "FAILED").map((t) => t.error?.code ?? "no code");
  return {
    name: "every SUCCEEDED task has a recorded successful execution",
    problems,
    summary: `${succeeded} SUCCEEDED and ${planned} PLANNED_FAILURE outcomes each tied to the execution that produced it; FAILED by code: ${tally(failed) || "none"}`,
  };
}

function subscribersFinal(f: Facts): CheckResult {
  const problems: string[] = [];
  const watched = new Set(f.subscribers.map((s) => s.batchId));
  for (const sent of f.submitted) if (!watched.has(sent.id)) problems.push(`batch ${sent.id} had no subscriber`);
  for (const s of f.subscribers) {
    const last = s.last?.batch;
    const where = `subscriber of batch ${s.batchId} (client ${s.client}, ${s.events.length} events, ${s.socketDeaths} socket deaths, ${s.subscriptions} subscriptions)`;
    if (!s.completed || !last) {
      problems.push(`${where} has no final event; last: ${last?.status ?? "none"}${s.errors.length ? `; errors: ${s.errors.slice(-2).join(" | ")}` : ""}`);
      continue;
    }
    const row = f.tables.batches.get(s.batchId);
    if (row && row.status !== last.status) problems.push(`${where}: final event says ${last.status}, the table ${row.status}`);
    const counts = f.tables.countsByBatch.get(s.batchId) ?? {};
    for (const key of COUNTERS) {
      if (last.counts[key] !== (counts[key.toUpperCase()] ?? 0)) problems.push(`${where}: final event has ${key} ${last.counts[key]}, count(*) ${counts[key.toUpperCase()] ?? 0}`);
    }
  }
  const died = f.subscribers.filter((s) => s.socketDeaths > 0);
  const resubscribed = f.subscribers.filter((s) => s.subscriptions > 1);
  return {
    name: "every subscriber got its batch's final event",
    problems,
    summary:
      `${f.subscribers.length} subscribers of ${watched.size} batches; ${died.length} lost their socket and resubscribed ` +
      `(${died.filter((s) => s.completed).length} then got the final event), ${resubscribed.length} subscribed again after an error` +
      (resubscribed.length > 0 ? ` (${tally(resubscribed.flatMap((s) => s.errors))})` : ""),
  };
}

function eventsConsistent(f: Facts): CheckResult {
  const problems = f.subscribers.flatMap((s) => s.anomalies.map((a) => `batch ${s.batchId} (client ${s.client}): ${a}`));
  const events = f.subscribers.reduce((n, s) => n + s.events.length, 0);
  return {
    name: "every event consistent (counts add up, nothing goes back, no final task changes)",
    problems,
    summary: `${events} events`,
  };
}

function processesSurvived(f: Facts): CheckResult {
  return {
    name: "no batchwire process died on its own",
    problems: f.deaths.map((d) => `${d.process} (pid ${d.pid}) exited (code ${d.code}, signal ${d.signal}) without a signal of ours; log: ${d.logFile}`),
    summary: "every exit was a SIGKILL of the run's or its final SIGTERM",
  };
}

export function runChecks(facts: Facts): CheckResult[] {
  return [
    finalExactlyOnce(facts),
    countersMatch(facts),
    noTaskLost(facts),
    retryLimits(facts),
    recordedOutcomes(facts),
    subscribersFinal(facts),
    eventsConsistent(facts),
    processesSurvived(facts),
  ];
}
