// jobStatistics.test.ts: a large submit refreshes the planner's statistics of pg-boss's job table
// (otherwise workers fetch with plans made for an empty table until autovacuum comes by).
import { describe, expect, it } from "vitest";
import { ANALYZE_AFTER_JOBS } from "../src/db/statistics.ts";
import type { TestDatabase } from "./helpers/database.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { submitOk } from "./helpers/batches.ts";

let db: TestDatabase;
let server: TestServer;

// API only: the jobs stay queued; nothing but submits touches the table.
serverForFile({ role: "api" }, (file) => ({ db, server } = file));

/**
 * The planner's row estimate for the table holding batchwire's jobs (set by ANALYZE as it commits;
 * inserts leave it alone), and whether an ANALYZE of it is running now.
 */
async function jobTable(): Promise<{ estimate: number; analyzing: boolean }> {
  const { rows } = await db.pool.query<{ estimate: number; analyzing: boolean }>(
    `select (select reltuples from pg_class where oid = 'pgboss.job_common'::regclass) as estimate,
            exists (select 1 from pg_stat_activity where datname = current_database() and query ilike 'analyze pgboss%' and state = 'active') as analyzing`,
  );
  return rows[0]!;
}

const echoTasks = (n: number) => Array.from({ length: n }, (_, i) => ({ kind: "echo", input: i }));

describe("job table statistics", () => {
  it("analyzes pg-boss's job table once submits have added enough jobs, not before", async () => {
    const fresh = await jobTable();
    // The ANALYZE is started before submitBatch answers; a small submit starts none.
    await submitOk(server.url, { tasks: echoTasks(ANALYZE_AFTER_JOBS / 2) });
    expect(await jobTable()).toEqual(fresh);
    await submitOk(server.url, { tasks: echoTasks(ANALYZE_AFTER_JOBS / 2) });
    const analyzed = await waitFor(async () => {
      const now = await jobTable();
      return now.estimate !== fresh.estimate && !now.analyzing ? now : undefined;
    });
    expect(analyzed.estimate).toBeGreaterThan(ANALYZE_AFTER_JOBS * 0.9);
  });
});
