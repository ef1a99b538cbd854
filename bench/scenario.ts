// scenario.ts: what every scenario gets (the database server, the size of the run) and gives back.
import type { DatabaseServer } from "./database.ts";
import type { Row } from "./report.ts";

export interface ScenarioContext {
  db: DatabaseServer;
  /** N: tasks per batch (100,000; 10,000 with --quick). */
  tasks: number;
  quick: boolean;
  /** Repetitions of the short scenarios, whose medians are reported. */
  repeat: number;
  /** One line of progress on stderr. */
  progress(message: string): void;
}

export interface ScenarioResult {
  rows: Row[];
  details: unknown;
}

export interface Scenario {
  name: string;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Tasks/s from a count and milliseconds. */
export const perSecond = (count: number, ms: number) => (count * 1000) / ms;

/** Batch timestamps (ISO strings from the API) to epoch milliseconds. */
export const epochMs = (iso: string | null): number => (iso ? Date.parse(iso) : Number.NaN);
