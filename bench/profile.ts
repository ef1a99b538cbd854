// profile.ts: where the time goes, database side. Runs one raw pg-boss drain and one batchwire
// batch of N no-op tasks on an embedded PostgreSQL with pg_stat_statements loaded, prints each
// one's statements by total time, then EXPLAIN ANALYZE of batchwire's per-fetch statements.
//
//   node bench/profile.ts [--tasks=20000] [--cpuprofile=file.cpuprofile]
//
// With --cpuprofile it only summarises a profile written by `node --cpu-prof` (self time by
// function and by package), and starts no database.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { createLogger } from "../src/logger.ts";
import { startBatchwire } from "./batchwire.ts";
import { query, startDatabaseServer } from "./database.ts";
import { rawDrain, startRawBoss } from "./raw.ts";
import { runBatchAsync } from "./scenarios/batchRun.ts";

const { values: args } = parseArgs({
  options: { tasks: { type: "string", default: "20000" }, cpuprofile: { type: "string" } },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

async function summariseCpuProfile(path: string): Promise<void> {
  const profile = JSON.parse(await readFile(path, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const file = url.replace(/^file:\/\//, "").replace(/^.*\/work\/main\//, "");
    const key = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const pkg = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? (file.startsWith("src/") ? "batchwire src" : file.startsWith("bench/") ? "bench" : file || functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, micros]) => `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  console.log(`self time by package (${(total / 1e6).toFixed(1)} s sampled):\n${top(byPackage, 25).join("\n")}`);
  console.log(`\nself time by function:\n${top(byFunction, 40).join("\n")}`);
}

interface StatementRow {
  calls: number;
  total_ms: number;
  mean_ms: number;
  rows: number;
  query: string;
}

async function topStatements(url: string, limit = 15): Promise<StatementRow[]> {
  return query<StatementRow>(
    url,
    `select calls, round(total_exec_time::numeric, 1)::float8 as total_ms, round(mean_exec_time::numeric, 3)::float8 as mean_ms, rows,
            regexp_replace(query, '\\s+', ' ', 'g') as query
     from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
     order by total_exec_time desc limit ${limit}`,
  );
}

function printStatements(title: string, rows: StatementRow[]): void {
  const total = rows.reduce((sum, row) => sum + row.total_ms, 0);
  console.log(`\n${title} (top ${rows.length}, ${total.toFixed(0)} ms in all):`);
  for (const row of rows) {
    console.log(`${String(row.total_ms.toFixed(0)).padStart(7)} ms ${String(row.calls).padStart(6)} calls ${row.mean_ms.toFixed(2).padStart(8)} ms/call ${String(row.rows).padStart(7)} rows  ${row.query.slice(0, 160)}`);
  }
}

async function explain(client: pg.Client, label: string, text: string, values: unknown[]): Promise<void> {
  await client.query("begin");
  try {
    const { rows } = await client.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers, costs off) ${text}`, values);
    // The 200 uuids of an `= ANY (...)` literal say nothing; keep the plan readable.
    const plan = rows.map((r) => r["QUERY PLAN"].replace(/'\{[^}]{200,}\}'/g, "'{…200 ids…}'"));
    console.log(`\n-- ${label}\n${plan.join("\n")}`);
  } finally {
    await client.query("rollback");
  }
}

async function profileDatabase(tasks: number): Promise<void> {
  const db = await startDatabaseServer(createLogger("warn"), { trackCommitTimestamp: false, statStatements: true });
  try {
    const rawUrl = await db.freshDatabase("profile_raw");
    await query(rawUrl, "create extension if not exists pg_stat_statements");
    const raw = await startRawBoss(rawUrl);
    await query(rawUrl, "select pg_stat_statements_reset()");
    const drained = await rawDrain(raw, tasks, 600_000);
    printStatements(`raw pg-boss drain of ${tasks} jobs: ${((tasks / drained.drainMs) * 1000).toFixed(0)} jobs/s`, await topStatements(rawUrl));
    await raw.stop();

    const url = await db.freshDatabase("profile");
    await query(url, "create extension if not exists pg_stat_statements");
    const server = await startBatchwire(url);
    await query(url, "select pg_stat_statements_reset()");
    const running = await runBatchAsync(server.url, "echo", tasks);
    const batch = await running.finished;
    const run = { drainMs: Date.parse(batch.finishedAt!) - Date.parse(batch.startedAt!) };
    printStatements(`batchwire batch of ${tasks} echo tasks: ${((tasks / run.drainMs) * 1000).toFixed(0)} tasks/s`, await topStatements(url));
    await server.stop();

    // The statements one fetch of 200 runs, on a table of `tasks` finished tasks (rolled back).
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; batch_id: string }>(`select id, batch_id from task order by index limit 200`);
      const ids = rows.map((r) => r.id);
      const batchId = rows[0]!.batch_id;
      await explain(client, "lockTasks (withInput)", `select id, batch_id, status, attempts, custom_id, input from task where id = any($1::uuid[]) order by id for update`, [ids]);
      await explain(
        client,
        "task update (the moved-tasks part of bumpBatches)",
        `update task t set status = u.status, attempts = u.attempts, result = u.result::jsonb, error = null, progress = 1,
           finished_at = now(), updated_at = now(), batch_version = u.batch_version
         from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::bigint[]) as u(id, status, attempts, result, batch_version)
         where t.id = u.id`,
        [ids, ids.map(() => "SUCCEEDED"), ids.map(() => 1), ids.map(() => "{}"), ids.map(() => 999_999)],
      );
      await explain(client, "bumpBatches (one batch)", `update batch set succeeded = succeeded, version = version + 1 where id = $1`, [batchId]);
      await explain(
        client,
        "changedTasks (event hub read)",
        `select t.* from unnest($1::uuid[], $2::bigint[], $3::bigint[]) as s(batch_id, since, up_to)
         cross join lateral (select * from task where task.batch_id = s.batch_id and task.batch_version > s.since
                             and task.batch_version <= s.up_to order by task.batch_version desc, task.index limit 101) t`,
        [[batchId], [0], [Number.MAX_SAFE_INTEGER]],
      );
      const stats = await client.query(
        `select relname, n_tup_upd, n_tup_hot_upd, n_dead_tup, pg_size_pretty(pg_total_relation_size(relid)) as size
         from pg_stat_user_tables where relname in ('task', 'batch') or schemaname = 'pgboss' order by n_tup_upd desc limit 6`,
      );
      console.log("\ntable updates (HOT = no index writes):");
      console.table(stats.rows);
    } finally {
      await client.end();
    }
  } finally {
    await db.stop();
  }
}

if (args.cpuprofile) await summariseCpuProfile(args.cpuprofile);
else await profileDatabase(Number(args.tasks));
