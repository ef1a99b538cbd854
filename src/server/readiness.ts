// readiness.ts: what /readyz answers. Ready means this process can do its work now: it reaches
// PostgreSQL, every migration it knows is applied, and (API role) its LISTEN connection is up.
import { readdir } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { MIGRATIONS_DIR } from "../db/migrate.ts";
import type { Pool } from "../db/pool.ts";

export type ReadinessReport = { ready: true } | { ready: false; reason: string };

export interface ReadinessOptions {
  pool: Pool;
  /** The API role's LISTEN connection; absent in a worker-only process. */
  listening?: () => boolean;
  /** How long the database may take to answer, in ms. */
  timeoutMs?: number;
}

/** The migrations this code expects, by the names node-pg-migrate records. */
export async function expectedMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR))
    .filter((file) => /\.(sql|js|ts)$/.test(file))
    .map((file) => file.replace(/\.(sql|js|ts)$/, ""))
    .sort();
}

async function appliedMigrations(pool: Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ name: string }>(`select name from batchwire_migrations`);
  return new Set(rows.map((row) => row.name));
}

export class Readiness {
  readonly #options: ReadinessOptions;
  readonly #expected: string[];

  constructor(options: ReadinessOptions, expected: string[]) {
    this.#options = options;
    this.#expected = expected;
  }

  async check(): Promise<ReadinessReport> {
    const timeoutMs = this.#options.timeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    let applied: Set<string>;
    try {
      applied = await Promise.race([appliedMigrations(this.#options.pool), timedOut]);
    } catch (error) {
      return { ready: false, reason: `database unreachable: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    const pending = this.#expected.filter((name) => !applied.has(name));
    if (pending.length > 0) return { ready: false, reason: `migrations not applied: ${pending.join(", ")}` };
    if (this.#options.listening && !this.#options.listening()) return { ready: false, reason: "LISTEN connection down: live events would not arrive" };
    return { ready: true };
  }
}

/** Answers /readyz: 200 `{"status":"ready"}`, or 503 `{"status":"unavailable","reason":…}`. */
export async function answerReadiness(res: ServerResponse, check: () => Promise<ReadinessReport>): Promise<void> {
  const report = await check().catch((error: unknown): ReadinessReport => ({ ready: false, reason: String(error) }));
  if (res.destroyed) return;
  res.writeHead(report.ready ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(report.ready ? { status: "ready" } : { status: "unavailable", reason: report.reason }));
}
