// faults.ts: the faults the chaos run injects, on a seeded schedule: SIGKILL of a worker (started
// again a moment later), SIGSTOP of a worker past its heartbeat (then SIGCONT, so it wakes up to
// tasks that ran again elsewhere), SIGKILL and restart of the API process, a PostgreSQL restart,
// pg_terminate_backend of batchwire's connections, and a subscriber's socket cut. The first
// rounds go through every kind once (so even a short run injects each), then kinds are drawn by
// weight. Counts what it injected.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, Slot } from "./cluster.ts";
import type { Random } from "./random.ts";
import type { Subscribers } from "./subscribers.ts";

export const FAULT_KINDS = ["kill-worker", "pause-worker", "restart-postgres", "terminate-connections", "kill-api", "drop-socket"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
const WEIGHTS: Record<FaultKind, number> = {
  "kill-worker": 30,
  "terminate-connections": 25,
  "restart-postgres": 15,
  "drop-socket": 15,
  "kill-api": 8,
  "pause-worker": 7,
};

export class Faults {
  readonly counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Connections that pg_terminate_backend ended. */
  terminatedConnections = 0;
  /** Faults that could not be injected (nothing to inject them on), and why. */
  readonly skipped: string[] = [];
  readonly #cluster: Cluster;
  readonly #subscribers: Subscribers;
  readonly #random: Random;
  readonly #say: (line: string) => void;
  /** Workers being started again after their SIGKILL, or resumed after their SIGSTOP. */
  readonly #restarts = new Set<Promise<void>>();
  readonly #restartFailures: unknown[] = [];
  readonly #paused = new Set<Slot>();

  readonly #kinds: readonly FaultKind[];

  constructor(cluster: Cluster, subscribers: Subscribers, random: Random, say: (line: string) => void, kinds: readonly FaultKind[] = FAULT_KINDS) {
    this.#cluster = cluster;
    this.#subscribers = subscribers;
    this.#random = random;
    this.#say = say;
    this.#kinds = kinds;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** Injects faults until `until` (epoch ms), then waits for the workers it killed or paused to be back. */
  async run(until: number, started: number): Promise<void> {
    const deck = this.#random.shuffle(this.#kinds);
    const weights = Object.fromEntries(this.#kinds.map((k) => [k, WEIGHTS[k]])) as Record<FaultKind, number>;
    while (Date.now() < until) {
      await sleep(this.#random.int(1_500, 4_000));
      if (Date.now() >= until) break;
      const fromDeck = deck.length > 0;
      const kind = deck.shift() ?? this.#random.weighted(weights);
      const detail = await this.#inject(kind);
      if (detail === undefined) {
        if (fromDeck) deck.push(kind); // still owed: try it again later
        continue;
      }
      this.counts[kind]++;
      this.#say(`  +${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${kind}${detail ? `: ${detail}` : ""}`);
    }
    await Promise.all(this.#restarts);
    if (this.#restartFailures.length > 0) throw new Error("a killed worker could not be started again", { cause: this.#restartFailures[0] });
  }

  /** Injects one fault; a description, or undefined when there was nothing to inject it on. */
  async #inject(kind: FaultKind): Promise<string | undefined> {
    switch (kind) {
      case "kill-worker":
        return this.#killWorker();
      case "pause-worker":
        return this.#pauseWorker();
      case "kill-api": {
        const pid = this.#cluster.api.kill();
        if (pid === undefined) return this.#skip(kind, "the API process is not running");
        const downMs = this.#random.int(200, 2_000);
        await sleep(downMs);
        await this.#cluster.api.start(Date.now() + 120_000);
        return `pid ${pid}, back after ${downMs} ms + its start`;
      }
      case "restart-postgres": {
        const downMs = this.#random.int(0, 3_000);
        await this.#cluster.postgres.restart(downMs);
        return `down ${downMs} ms + its start`;
      }
      case "terminate-connections":
        return this.#terminateConnections();
      case "drop-socket": {
        const client = this.#random.int(0, this.#subscribers.clientCount - 1);
        if (!this.#subscribers.dropSocket(client)) return this.#skip(kind, `client ${client} has no open subscription`);
        return `client ${client}`;
      }
    }
  }

  #killWorker(): string | undefined {
    const running = this.#cluster.workers.filter((w) => w.ready);
    if (running.length === 0) return this.#skip("kill-worker", "no worker is running");
    const worker: Slot = this.#random.pick(running);
    const pid = worker.kill()!;
    const downMs = this.#random.int(500, 5_000);
    const restart = sleep(downMs)
      .then(() => worker.start(Date.now() + 120_000))
      .catch((error: unknown) => void this.#restartFailures.push(error))
      .finally(() => this.#restarts.delete(restart));
    this.#restarts.add(restart);
    return `${worker.name} (pid ${pid}), restarted after ${downMs} ms`;
  }

  /** Longer than HEARTBEAT_SECONDS + the supervise interval: the paused worker's tasks run again elsewhere. */
  #pauseWorker(): string | undefined {
    const running = this.#cluster.workers.filter((w) => w.ready && !this.#paused.has(w));
    if (running.length === 0) return this.#skip("pause-worker", "no worker is running");
    const worker = this.#random.pick(running);
    const pause = worker.pause()!;
    this.#paused.add(worker);
    const pausedMs = this.#random.int(12_000, 18_000);
    const resume = sleep(pausedMs)
      .then(() => pause.resume())
      .finally(() => {
        this.#paused.delete(worker);
        this.#restarts.delete(resume);
      });
    this.#restarts.add(resume);
    return `${worker.name} (pid ${pause.pid}) SIGSTOPped for ${pausedMs} ms`;
  }

  async #terminateConnections(): Promise<string | undefined> {
    // all of them, about half, or every connection of one kind (pools, LISTEN, pg-boss)
    const mode = this.#random.weighted({ all: 1, half: 2, one: 2 });
    const client = new pg.Client({ connectionString: this.#cluster.postgres.url });
    client.on("error", () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number; application_name: string }>(
        `select pid, application_name from pg_stat_activity
         where application_name like 'batchwire%' and pid <> pg_backend_pid() order by pid`,
      );
      const names = [...new Set(rows.map((r) => r.application_name))].sort();
      if (names.length === 0) return this.#skip("terminate-connections", "no batchwire connection is open");
      const only = mode === "one" ? this.#random.pick(names) : undefined;
      const victims = rows.filter((r) => (mode === "all" ? true : mode === "half" ? this.#random.chance(0.5) : r.application_name === only));
      await client.query(`select pg_terminate_backend(pid) from unnest($1::int[]) as pid`, [victims.map((v) => v.pid)]);
      this.terminatedConnections += victims.length;
      return `${victims.length} of ${rows.length} (${only ?? mode})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  #skip(kind: FaultKind, why: string): undefined {
    this.skipped.push(`${kind}: ${why}`);
    return undefined;
  }
}
