// report.ts: what the chaos run prints at its end: the faults injected by kind, the workload, how
// long it took to settle, and one line per check with the first things that broke.
import type { CheckResult } from "./checks.ts";
import type { Faults } from "./faults.ts";
import { FAULT_KINDS } from "./faults.ts";
import type { Settled } from "./settle.ts";
import type { SubmittedBatch } from "./workload.ts";

const SHOWN = 8; // problems printed per failing check

export interface RunSummary {
  faults: Faults;
  batches: SubmittedBatch[];
  requestsRetried: number;
  startFailures: number;
  settled: Settled;
  results: CheckResult[];
}

export function printReport(s: RunSummary, say: (line: string) => void): void {
  const scenarios = Map.groupBy(s.batches, (b) => b.scenario);
  const tasks = s.batches.reduce((n, b) => n + b.tasks, 0);
  say("");
  say(
    `faults injected (${s.faults.total}): ${FAULT_KINDS.map((k) => `${k} ${s.faults.counts[k]}`).join(", ")}; ` +
      `${s.faults.terminatedConnections} connections terminated`,
  );
  say(
    `workload: ${s.batches.length} batches (${[...scenarios].map(([name, b]) => `${name} ${b.length}`).join(", ")}), ${tasks} tasks; ` +
      `${s.requestsRetried} requests sent again; ${s.startFailures} process starts failed and were retried`,
  );
  const { settled, seconds, open } = s.settled;
  say(settled ? `settled in ${seconds.toFixed(1)} s` : `NOT settled after ${seconds.toFixed(0)} s: ${JSON.stringify(open)}`);
  say("checks:");
  for (const result of s.results) {
    say(`  ${result.problems.length === 0 ? "ok  " : "FAIL"}  ${result.name}: ${result.summary}`);
    for (const problem of result.problems.slice(0, SHOWN)) say(`          - ${problem}`);
    if (result.problems.length > SHOWN) say(`          … and ${result.problems.length - SHOWN} more`);
  }
}
