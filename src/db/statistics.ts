// statistics.ts: keeps the planner's statistics of pg-boss's job table fresh after bulk inserts.
//
// Right after a large submit, autovacuum has not yet analyzed the job table, and pg-boss's fetch
// plans on the statistics of a far smaller table: a bitmap scan and a sort of every queued job on
// each call (15-45 ms per fetch of 200 jobs at 100,000 queued) instead of an index scan (under
// 1 ms). One ANALYZE after the insert commits fixes the plan for the whole drain.
import type { Pool } from "./pool.ts";
import type { Logger } from "../logger.ts";

/** pg-boss's jobs are a partitioned table; an ANALYZE of it covers every partition. */
export const ANALYZE_JOBS = "analyze pgboss.job";
/** Jobs inserted since the last ANALYZE that make the next one worth it (sampling caps its cost). */
export const ANALYZE_AFTER_JOBS = 10_000;

export class JobStatistics {
  readonly #pool: Pool;
  readonly #log: Logger;
  #inserted = 0;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(pool: Pool, log: Logger) {
    this.#pool = pool;
    this.#log = log;
  }

  /** Counts committed job inserts; past the threshold, one ANALYZE runs in the background. */
  inserted(jobs: number): void {
    this.#inserted += jobs;
    this.#analyzeIfDue();
  }

  #analyzeIfDue(): void {
    if (this.#stopped || this.#running || this.#inserted < ANALYZE_AFTER_JOBS) return;
    this.#inserted = 0;
    this.#running = this.#pool
      .query(ANALYZE_JOBS)
      .then(() => undefined)
      .catch((error: unknown) => this.#log.warn({ err: error }, "ANALYZE of pg-boss's job table failed"))
      .finally(() => {
        this.#running = undefined;
        // Jobs that committed while it ran may not have been sampled: count them towards the next.
        this.#analyzeIfDue();
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
