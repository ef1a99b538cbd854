// cluster.ts: the system under test, as operators run it: an embedded PostgreSQL in a folder of
// the run's own (restartable on its port), one API process and two worker processes, each started
// as `npm start` starts batchwire (`node src/main.ts` with ROLE and the rest in its environment),
// known ready by GET /healthz, and killed with real signals.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded.ts";
import { createLogger } from "../src/logger.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const KINDS_MODULE = fileURLToPath(new URL("./kinds.ts", import.meta.url));

/**
 * Short intervals so that recovery fits in a one-minute run: a SIGKILLed worker's tasks run
 * again after HEARTBEAT_SECONDS (its minimum) + SUPERVISE_INTERVAL_SECONDS.
 */
const ENGINE_SETTINGS = {
  HEARTBEAT_SECONDS: "10",
  SUPERVISE_INTERVAL_SECONDS: "2",
  MAINTENANCE_INTERVAL_SECONDS: "2",
  POLL_INTERVAL_SECONDS: "0.5",
  SHUTDOWN_TIMEOUT_MS: "5000",
  LOG_LEVEL: "info",
} as const;

export class Postgres {
  readonly #dataDir: string;
  #db: EmbeddedDatabase | undefined;
  #port: number | undefined;
  #url: string | undefined;
  readonly #log = createLogger("silent");

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** The same across restarts (the port is kept), so it may be handed out while the server is down. */
  get url(): string {
    if (!this.#url) throw new Error("PostgreSQL was never started");
    return this.#url;
  }

  async start(): Promise<void> {
    this.#db = await startEmbeddedPostgres(this.#dataDir, this.#log, this.#port);
    this.#port = this.#db.port;
    this.#url = this.#db.url;
  }

  /** Fast shutdown (every backend ends, open transactions roll back), `downMs` down, start again. */
  async restart(downMs: number): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }

  async stop(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    await db?.stop();
  }

  /** For the exit hook: the postmaster, from its pid file. */
  postmasterPid(): number | undefined {
    try {
      return Number(readFileSync(join(this.#dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]) || undefined;
    } catch {
      return undefined;
    }
  }
}

interface Incarnation {
  child: ChildProcess;
  pid: number;
  port: number;
  logFile: string;
  ready: boolean;
  /** A SIGKILL or SIGTERM of ours, not a death of its own. */
  signalled: boolean;
  exited: Promise<void>;
}

export interface ProcessDeath {
  process: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
}

/** One place in the cluster (the API, or worker 1 or 2): the process that holds it now, and its history. */
export class Slot {
  readonly name: string;
  readonly role: "api" | "worker";
  readonly #env: () => Record<string, string>;
  readonly #logsDir: string;
  /** The API keeps its port across restarts, so its clients find it again. */
  #fixedPort: number | undefined;
  #generation = 0;
  #current: Incarnation | undefined;
  #wanted = false;
  #starting: Promise<void> | undefined;
  /** The SIGKILLs and SIGSTOPs the run sent, by pid, with when. */
  readonly interruptions: { pid: number; signal: "SIGKILL" | "SIGSTOP"; at: number }[] = [];
  /** Processes that exited before they were ready (a start during a PostgreSQL restart). */
  startFailures = 0;
  /** Processes that died after they were ready without a signal of ours: always a finding. */
  readonly deaths: ProcessDeath[] = [];

  constructor(name: string, role: "api" | "worker", env: () => Record<string, string>, logsDir: string, fixedPort?: number) {
    this.name = name;
    this.role = role;
    this.#env = env;
    this.#logsDir = logsDir;
    this.#fixedPort = fixedPort;
  }

  get port(): number | undefined {
    return this.#fixedPort ?? this.#current?.port;
  }

  get ready(): boolean {
    return this.#current?.ready ?? false;
  }

  /** Starts a process and resolves once one is ready, trying again while starts fail. */
  start(deadline: number): Promise<void> {
    this.#wanted = true;
    this.#starting ??= this.#startUntilReady(deadline).finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #startUntilReady(deadline: number): Promise<void> {
    for (;;) {
      const incarnation = await this.#spawn();
      if (await this.#waitReady(incarnation, deadline)) return;
      if (!this.#wanted) return;
      this.startFailures++;
      if (Date.now() > deadline) throw new Error(`${this.name} did not become ready; see ${incarnation.logFile}`);
      await sleep(500);
    }
  }

  async #spawn(): Promise<Incarnation> {
    const port = this.#fixedPort ?? (await freePort());
    const logFile = join(this.#logsDir, `${this.name}.${++this.#generation}.log`);
    const out = openSync(logFile, "a");
    const child = spawn(process.execPath, ["src/main.ts"], {
      cwd: ROOT,
      env: { ...this.#env(), ROLE: this.role, PORT: String(port), HOST: "127.0.0.1", TASK_KINDS_MODULE: KINDS_MODULE, ...ENGINE_SETTINGS },
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    const incarnation: Incarnation = {
      child,
      pid: child.pid!,
      port,
      logFile,
      ready: false,
      signalled: false,
      exited: new Promise((resolve) =>
        child.once("exit", (code, signal) => {
          if (incarnation.ready && !incarnation.signalled) {
            this.deaths.push({ process: this.name, pid: incarnation.pid, code, signal, logFile });
            if (this.#wanted) void this.start(Date.now() + 120_000).catch(() => undefined);
          }
          incarnation.ready = false;
          resolve();
        }),
      ),
    };
    this.#current = incarnation;
    return incarnation;
  }

  async #waitReady(incarnation: Incarnation, deadline: number): Promise<boolean> {
    let exited = false;
    void incarnation.exited.then(() => (exited = true));
    while (!exited && Date.now() < deadline) {
      try {
        const response = await fetch(`http://127.0.0.1:${incarnation.port}/healthz`, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) {
          incarnation.ready = !exited;
          return incarnation.ready;
        }
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    if (!exited) {
      incarnation.signalled = true;
      incarnation.child.kill("SIGKILL");
      await incarnation.exited;
    }
    return false;
  }

  /** SIGKILLs the process (no clean-up runs); returns its pid, or undefined when none runs. */
  kill(): number | undefined {
    const current = this.#current;
    if (!current || current.child.exitCode !== null || current.child.signalCode !== null) return undefined;
    this.#wanted = false;
    current.signalled = true;
    current.child.kill("SIGKILL");
    this.interruptions.push({ pid: current.pid, signal: "SIGKILL", at: Date.now() });
    return current.pid;
  }

  /**
   * SIGSTOPs the process (a stall: a long GC pause, a frozen VM) and returns a function that
   * SIGCONTs it. Its connections stay open and its heartbeats stop, so pg-boss gives its tasks to
   * another worker while it still holds them.
   */
  pause(): { pid: number; resume: () => void } | undefined {
    const current = this.#current;
    if (!current?.ready) return undefined;
    current.child.kill("SIGSTOP");
    this.interruptions.push({ pid: current.pid, signal: "SIGSTOP", at: Date.now() });
    return { pid: current.pid, resume: () => void current.child.kill("SIGCONT") };
  }

  /** SIGTERM (a graceful stop), then SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    this.#wanted = false;
    await this.#starting?.catch(() => undefined);
    const current = this.#current;
    if (!current || current.child.exitCode !== null || current.child.signalCode !== null) return;
    current.signalled = true;
    current.child.kill("SIGTERM");
    const timer = setTimeout(() => current.child.kill("SIGKILL"), graceMs);
    await current.exited;
    clearTimeout(timer);
  }

  /** For the exit hook: kill whatever runs, at once. */
  killNow(): void {
    this.#current?.child.kill("SIGKILL");
  }
}

export class Cluster {
  readonly postgres: Postgres;
  readonly api: Slot;
  readonly workers: Slot[];

  private constructor(postgres: Postgres, api: Slot, workers: Slot[]) {
    this.postgres = postgres;
    this.api = api;
    this.workers = workers;
  }

  static async start(dir: string, executionsDir: string, workerCount: number): Promise<Cluster> {
    const postgres = new Postgres(dir);
    const logsDir = join(dir, "logs");
    const env = () => ({
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: postgres.url,
      CHAOS_EXECUTIONS_DIR: executionsDir,
    });
    const api = new Slot("api", "api", env, logsDir, await freePort());
    const workers = Array.from({ length: workerCount }, (_, i) => new Slot(`worker-${i + 1}`, "worker", env, logsDir));
    const cluster = new Cluster(postgres, api, workers);
    process.once("exit", () => cluster.#killNow());
    await postgres.start();
    const deadline = Date.now() + 120_000;
    await api.start(deadline); // runs the migrations before the workers race for them
    await Promise.all(workers.map((w) => w.start(deadline)));
    return cluster;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.api.port}/graphql`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.api.port}/graphql`;
  }

  slots(): Slot[] {
    return [this.api, ...this.workers];
  }

  /** Every process started and ready (after the fault phase). */
  async ensureRunning(deadline: number): Promise<void> {
    await Promise.all(this.slots().map((slot) => (slot.ready ? undefined : slot.start(deadline))));
  }

  /** Graceful stop of every process, then PostgreSQL. */
  async stopProcesses(): Promise<void> {
    await Promise.all(this.slots().map((slot) => slot.stop()));
  }

  #killNow(): void {
    for (const slot of this.slots()) slot.killNow();
    const postmaster = this.postgres.postmasterPid();
    if (postmaster) {
      try {
        process.kill(postmaster, "SIGQUIT"); // immediate shutdown: this process is exiting
      } catch {
        // already gone
      }
    }
  }
}
