// outage.ts: telling "PostgreSQL cannot be reached" apart from other errors, and logging an outage
// as one story (it began, it goes on, it ended) instead of one line per failed query.
import type { Logger } from "../logger.ts";

// Connection exceptions (class 08), and a server that is shutting down, crashed or starting up.
const UNAVAILABLE_SQLSTATE = /^(08...|57P01|57P02|57P03)$/;
const UNAVAILABLE_SYSTEM_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);
// What pg and pg-pool say without a code.
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

/** Whether `error` (or an error it wraps) says the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 5) return false;
  const { code, message, cause, errors, originalError } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    originalError?: unknown;
  };
  if (typeof code === "string" && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SYSTEM_CODES.has(code))) return true;
  if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1) || isDatabaseUnavailable(originalError, depth + 1);
}

export interface OutageOptions {
  /** How often, during an outage, a line says it goes on, in ms. */
  reminderMs?: number;
  /** How often, during an outage, the database is tried, in ms. */
  probeMs?: number;
  /** The clock (tests pass their own). */
  now?: () => number;
}

/**
 * One process's view of the database's reachability. Every component reports the errors it meets
 * here; an outage is logged when it starts, at most once every `reminderMs` while it lasts (with how
 * many failures were not logged), and when a probe finds the database again.
 */
export class DatabaseOutage {
  readonly #probe: () => Promise<unknown>;
  readonly #log: Logger;
  readonly #reminderMs: number;
  readonly #probeMs: number;
  readonly #now: () => number;
  #since: number | undefined;
  #lastLogged = 0;
  #unlogged = 0;
  #lastError = "";
  #probeTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `probe` tries the database (a `select 1`); it rejects while the database cannot be reached. */
  constructor(probe: () => Promise<unknown>, log: Logger, options: OutageOptions = {}) {
    this.#probe = probe;
    this.#log = log.child({ component: "database" });
    this.#reminderMs = options.reminderMs ?? 60_000; // at most one line a minute
    this.#probeMs = options.probeMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the database was unreachable at the last report or probe. */
  get down(): boolean {
    return this.#since !== undefined;
  }

  /**
   * Takes an error a component met. Returns true when it was the database being unreachable
   * (then this has logged, or deliberately not): the caller logs nothing more.
   */
  report(error: unknown, where: string): boolean {
    if (!isDatabaseUnavailable(error)) return false;
    if (this.#stopped) return true; // a stop in progress closes connections on purpose
    const now = this.#now();
    this.#lastError = error instanceof Error ? error.message : String(error);
    if (this.#since === undefined) {
      this.#since = now;
      this.#lastLogged = now;
      this.#unlogged = 0;
      this.#log.error({ where, error: this.#lastError }, "database unreachable: retrying in the background");
      this.#probeTimer = setInterval(() => void this.check(), this.#probeMs);
      this.#probeTimer.unref();
    } else if (now - this.#lastLogged >= this.#reminderMs) {
      this.#log.error(
        { where, error: this.#lastError, downForSeconds: Math.round((now - this.#since) / 1000), failuresSinceLastLine: this.#unlogged + 1 },
        "database still unreachable",
      );
      this.#lastLogged = now;
      this.#unlogged = 0;
    } else {
      this.#unlogged += 1;
    }
    return true;
  }

  /** Quiet from now on: connections that drop during a stop are not an outage. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#probeTimer);
  }

  /** Tries the database now; during an outage, a success ends it (the interval calls this). */
  async check(): Promise<void> {
    try {
      await this.#probe();
    } catch (error) {
      this.report(error, "probe");
      return;
    }
    if (this.#since === undefined) return;
    clearInterval(this.#probeTimer);
    this.#log.info(
      { downForSeconds: Math.round((this.#now() - this.#since) / 1000), failuresNotLogged: this.#unlogged },
      "database reachable again",
    );
    this.#since = undefined;
  }

  /**
   * `log`, with every warning or error whose `err` is the database being unreachable told to this
   * outage instead of printed. Components log as they always do; the outage is told once.
   */
  logger(log: Logger): Logger {
    return new Proxy(log, {
      get: (target, prop) => {
        if (prop === "warn" || prop === "error") {
          return (fields: unknown, ...rest: unknown[]) => {
            const err = typeof fields === "object" && fields !== null ? (fields as { err?: unknown }).err : undefined;
            if (err !== undefined && this.report(err, typeof rest[0] === "string" ? rest[0] : prop)) return;
            (target[prop] as (...args: unknown[]) => void).call(target, fields, ...rest);
          };
        }
        if (prop === "child") return (...args: Parameters<Logger["child"]>) => this.logger(target.child(...args) as unknown as Logger);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}
