// report.ts: the benchmark's one table (figure, batchwire, baseline, ratio, target, met?) and
// the same rows as JSON in bench/results/latest.json.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface Row {
  /** Stable key for the JSON, e.g. "throughput.tasksPerSecond". */
  id: string;
  figure: string;
  unit: string;
  value: number;
  /** What it is compared with (the figure names it): mostly raw pg-boss in the same run. */
  baseline?: number;
  /** value / baseline, or the figure's own ratio (tenth batch / first). */
  ratio?: number;
  target: string;
  /** undefined when the row has no target. */
  met?: boolean;
}

export interface Report {
  startedAt: string;
  mode: "full" | "quick";
  tasks: number;
  /** Repetitions of ingest and throughput; their medians are reported. */
  repeat: number;
  machine: Record<string, string | number>;
  rows: Row[];
  /** Each scenario's raw measurements (every repetition, every batch). */
  details: Record<string, unknown>;
  durationSeconds: number;
}

function formatNumber(value: number | undefined, unit = ""): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

export function formatTable(rows: Row[]): string {
  const header = ["figure", "batchwire", "baseline", "ratio", "target", "met?"];
  const lines = rows.map((row) => [
    row.figure,
    formatNumber(row.value, row.unit),
    formatNumber(row.baseline, row.baseline === undefined ? "" : row.unit),
    row.ratio === undefined ? "—" : `${row.ratio.toFixed(2)}x`,
    row.target,
    row.met === undefined ? "" : row.met ? "yes" : "NO",
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const render = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [render(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(render)].join("\n");
}

export async function writeReport(path: string, report: Report): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** bench/RESULTS.md: a full run's table with the machine it ran on and how each figure is taken. */
export function formatResultsMarkdown(report: Report, command: string): string {
  const m = report.machine;
  return `# Benchmark results

The latest ${report.mode} run of \`${command}\` (${report.startedAt.slice(0, 10)}, N = ${report.tasks.toLocaleString("en-US")} tasks per batch,
${report.durationSeconds} s). Ratios are to raw pg-boss 12 measured in the same run on the same database server,
unless the figure names another baseline. Ingest and throughput are medians of ${report.repeat} repetitions.

Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.platform}; Node ${m.node};
PostgreSQL ${m.postgres} (${m.database}, default settings plus track_commit_timestamp);
1-minute load average ${m.loadAverageAtStart} when the run started. Revision ${m.revision}.

${formatTable(report.rows)}

How the figures are taken (see bench/scenarios/):

- ingest: one \`submitBatch\` of N \`echo\` tasks over HTTP, request sent to response read, on an
  API-only server; against one \`boss.insert\` of N jobs shaped as submitBatch shapes them.
- throughput: first task started to batch COMPLETED (\`batch.startedAt\` → \`finishedAt\`); against
  a raw \`work()\` drain of N pre-inserted jobs (first \`started_on\` → last \`completed_on\`), with
  echo's queue options, batch size and concurrency. Both on the database clock.
- pickup: one task submitted on an idle queue → its handler starts (a bench kind records the
  time); against \`boss.send\` → handler. Random 40-100 ms gaps between samples.
- event latency: while N no-op tasks run, each task's outcome commit
  (\`pg_xact_commit_timestamp\`) → the first jobProgress message over graphql-ws whose batch
  version reflects it (one subscriber, default throttle of 10 events a second).
- fan-out: subscribers connect (from a child process) to a batch held idle by a gate; the
  server's JS heap plus external memory after a full GC, before and after, gives the cost per idle
  subscriber. The gate then opens and N tasks drain while every subscriber receives events,
  against the same without subscribers. A drain still running after 90 s (30 s with --quick)
  is rated by the tasks done by then ("capped").
- CPU per 1,000 tasks: this process's CPU time (server and bench client) and the embedded
  PostgreSQL's (all its processes, from /proc) across the drain.
- endurance: N-task batches one after another on one server and database; the last against the
  first.

Variance: on this 2-core machine a drain's rate moves by 15% or more between runs (other work,
autovacuum, the order in which flushes of one batch queue on its row). The fan-out ratio compares
two drains measured one after the other and moves with them. Both sides analyze pg-boss's job
table after their bulk insert (batchwire by itself: src/db/statistics.ts), so neither drains on
the statistics of an empty table. Every repetition is in bench/results/latest.json.
`;
}
