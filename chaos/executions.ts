// executions.ts: the chaos kinds' own record of every handler execution, one JSON-lines file per
// worker process, written outside batchwire's database so that it survives every fault the run
// injects (a SIGKILL loses nothing already appended; a PostgreSQL restart cannot fail a write).
import { appendFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export type ExecutionOutcome = "succeeded" | "failed" | "aborted";

/** Written when a handler starts (`start`) and when it returns or throws (`end`). */
export type ExecutionRecord =
  | { t: "start"; execution: string; task: string; batch: string; kind: string; attempt: number; pid: number; at: number }
  | { t: "end"; execution: string; outcome: ExecutionOutcome; at: number };

/** One handler run: `end` is missing when its process was killed first. */
export interface Execution {
  execution: string;
  task: string;
  batch: string;
  kind: string;
  attempt: number;
  pid: number;
  startedAt: number;
  outcome: ExecutionOutcome | undefined;
}

/** The per-process writer; execution ids are `<pid>:<n>`, unique across the run. */
export class ExecutionLog {
  readonly #file: string;
  #next = 0;

  constructor(dir: string) {
    this.#file = join(dir, `${process.pid}.jsonl`);
  }

  start(task: { task: string; batch: string; kind: string; attempt: number }): string {
    const execution = `${process.pid}:${++this.#next}`;
    this.#append({ t: "start", execution, ...task, pid: process.pid, at: Date.now() });
    return execution;
  }

  end(execution: string, outcome: ExecutionOutcome): void {
    this.#append({ t: "end", execution, outcome, at: Date.now() });
  }

  // Synchronous on purpose: once the handler goes on, the line is in the kernel's hands, and a
  // SIGKILL of this process cannot take it back.
  #append(record: ExecutionRecord): void {
    appendFileSync(this.#file, `${JSON.stringify(record)}\n`);
  }
}

/** Every execution every process recorded in `dir`. */
export async function readExecutions(dir: string): Promise<Execution[]> {
  const byId = new Map<string, Execution>();
  const ends: Extract<ExecutionRecord, { t: "end" }>[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(".jsonl"))) {
    const text = await readFile(join(dir, name), "utf8");
    for (const line of text.split("\n")) {
      if (!line) continue;
      let record: ExecutionRecord;
      try {
        record = JSON.parse(line) as ExecutionRecord;
      } catch {
        continue; // a line cut by a SIGKILL mid-write (appendFileSync of a short line rarely is)
      }
      if (record.t === "end") ends.push(record);
      else {
        const { execution, task, batch, kind, attempt, pid, at } = record;
        byId.set(execution, { execution, task, batch, kind, attempt, pid, startedAt: at, outcome: undefined });
      }
    }
  }
  for (const end of ends) {
    const execution = byId.get(end.execution);
    if (execution) execution.outcome = end.outcome;
  }
  return [...byId.values()];
}
