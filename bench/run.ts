// run.ts: `npm run bench`: batchwire against raw pg-boss 12 in one run, on a database of its own.
//
//   npm run bench                      full run (N = 100,000 tasks per batch), a few minutes
//   npm run bench -- --quick           N = 10,000, under a minute (CI runs this)
//   npm run bench -- --only=throughput,pickup   some scenarios only
//   npm run bench -- --repeat=5        repetitions of ingest and throughput (medians reported)
//   npm run bench -- --write-results   also writes the table to bench/RESULTS.md (a full run's)
//
// BENCH_DATABASE_URL points it at a server of your own; by default it starts an embedded
// PostgreSQL in a temporary folder. Every scenario gets a fresh database on that server.
// Prints one table and writes the same as JSON to bench/results/latest.json.
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { createLogger } from "../src/logger.ts";
import { startDatabaseServer } from "./database.ts";
import { formatResultsMarkdown, formatTable, writeReport, type Report, type Row } from "./report.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";
import { endurance } from "./scenarios/endurance.ts";
import { eventLatency } from "./scenarios/eventLatency.ts";
import { fanout } from "./scenarios/fanout.ts";
import { ingest } from "./scenarios/ingest.ts";
import { pickup } from "./scenarios/pickup.ts";
import { throughput } from "./scenarios/throughput.ts";
import { upload } from "./scenarios/upload.ts";

const SCENARIOS: Scenario[] = [ingest, throughput, pickup, eventLatency, fanout, endurance, upload];
const FULL_TASKS = 100_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    repeat: { type: "string" },
    out: { type: "string", default: fileURLToPath(new URL("./results/latest.json", import.meta.url)) },
    "write-results": { type: "boolean", default: false },
  },
});

const quick = args.quick ?? false;
const only = args.only ? new Set(args.only.split(",").map((name) => name.trim())) : undefined;
for (const name of only ?? []) {
  if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
}
const repeat = args.repeat ? Number(args.repeat) : quick ? 1 : 3;
const tasks = quick ? FULL_TASKS / 10 : FULL_TASKS;

/** The commit measured, marked when src/ or migrations/ differ from it. */
function revision(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--", "src", "migrations") ? " + uncommitted changes" : ""}`;
  } catch {
    return "unknown";
  }
}

const startedAt = new Date();
const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const progress = (message: string) => process.stderr.write(`[bench ${elapsed()}] ${message}\n`);

const log = createLogger("warn");
// Other work on the machine skews every figure; the load average says how much there was.
const loadAtStart = loadavg()[0]!;
progress(`${quick ? "quick" : "full"} run: N = ${tasks.toLocaleString("en-US")}, repeat ${repeat}, load average ${loadAtStart.toFixed(2)}`);
const db = await startDatabaseServer(log, { trackCommitTimestamp: true, statStatements: false });
// An interrupted run still stops its embedded PostgreSQL and removes its folder.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the database server`);
    void db.stop().finally(() => process.exit(130));
  });
}
progress(`PostgreSQL ${db.version} (${db.kind}), commit timestamps ${db.commitTimestamps ? "on" : "off"}`);

const context: ScenarioContext = { db, tasks, quick, repeat, progress };
const rows: Row[] = [];
const details: Record<string, unknown> = {};
const failures: string[] = [];
try {
  for (const scenario of SCENARIOS) {
    if (only && !only.has(scenario.name)) continue;
    progress(`${scenario.name}…`);
    try {
      const result = await scenario.run(context);
      rows.push(...result.rows);
      details[scenario.name] = result.details;
    } catch (error) {
      failures.push(`${scenario.name}: ${(error as Error).stack ?? String(error)}`);
      details[scenario.name] = { error: String(error) };
      progress(`${scenario.name} FAILED: ${String(error)}`);
    }
  }
} finally {
  await db.stop();
}

const report: Report = {
  startedAt: startedAt.toISOString(),
  mode: quick ? "quick" : "full",
  tasks,
  repeat,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: db.version,
    database: db.kind,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: Math.round(loadAtStart * 100) / 100,
    revision: revision(),
  },
  rows,
  details,
  durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
};
await writeReport(args.out!, report);
if (args["write-results"]) {
  const rest = process.argv.slice(2).filter((arg) => arg !== "--write-results");
  const command = rest.length > 0 ? `npm run bench -- ${rest.join(" ")}` : "npm run bench";
  await writeFile(fileURLToPath(new URL("./RESULTS.md", import.meta.url)), formatResultsMarkdown(report, command));
}

const machine = report.machine;
process.stdout.write(
  `\nbatchwire benchmark (${report.mode}, N = ${tasks.toLocaleString("en-US")}, ${report.durationSeconds}s) on ${machine.cpus} × ${machine.cpuModel}, ` +
    `${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres} (${machine.database}), load average ${machine.loadAverageAtStart} at start\n\n${formatTable(rows)}\n\nJSON: ${args.out}\n`,
);
if (failures.length > 0) {
  process.stderr.write(`\n${failures.length} scenario(s) failed:\n${failures.join("\n")}\n`);
  process.exitCode = 1;
}
