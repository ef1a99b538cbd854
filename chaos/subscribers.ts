// subscribers.ts: jobProgress subscribers over graphql-ws as a careful client runs them: a client
// that reconnects (and resubscribes) whenever its socket dies, and a subscriber that subscribes
// again when its operation fails. Each keeps every event it got and notes what in them broke the
// subscription's promises (counts that do not add up, a version or a finished count going back,
// a final task changing).
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export const FINAL_BATCH = new Set(["COMPLETED", "CANCELED", "EXPIRED"]);
export const FINAL_TASK = new Set(["SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"]);
export const COUNTERS = ["queued", "running", "retrying", "succeeded", "failed", "canceled", "expired"] as const;
export type Counts = Record<(typeof COUNTERS)[number] | "total", number>;

export interface ProgressEvent {
  batch: { id: string; status: string; version: number; progress: number; counts: Counts };
  changedTasks: { id: string; status: string }[];
  changedTasksTruncated: boolean;
}

const JOB_PROGRESS = `subscription Watch($batchId: ID!) {
  jobProgress(batchId: $batchId) {
    batch { id status version progress counts { total ${COUNTERS.join(" ")} } }
    changedTasks { id status }
    changedTasksTruncated
  }
}`;

export class Subscriber {
  readonly batchId: string;
  readonly client: number;
  readonly events: ProgressEvent[] = [];
  /** Subscribe calls: the first, plus one per failed operation. */
  subscriptions = 0;
  /** Sockets that died under this subscriber while its stream was open. */
  socketDeaths = 0;
  readonly errors: string[] = [];
  /** What its events broke. */
  readonly anomalies: string[] = [];
  /** The server completed the stream after a final event. */
  completed = false;
  /** What happened to it, for the diagnosis of a failed run. */
  readonly history: string[] = [];
  readonly #born = Date.now();
  #fresh = true;
  readonly #tasks = new Map<string, string>();

  constructor(batchId: string, client: number) {
    this.batchId = batchId;
    this.client = client;
  }

  get last(): ProgressEvent | undefined {
    return this.events.at(-1);
  }

  note(what: string): void {
    if (this.history.length < 500) this.history.push(`+${((Date.now() - this.#born) / 1000).toFixed(2)}s ${what}`);
  }

  /** A new subscription or socket: its first event may repeat the version last seen. */
  restarted(): void {
    this.#fresh = true;
  }

  record(event: ProgressEvent): void {
    const { batch } = event;
    const before = this.last?.batch;
    const note = (what: string) => this.anomalies.push(`event ${this.events.length + 1} (v${batch.version}): ${what}`);
    const sum = COUNTERS.reduce((n, key) => n + batch.counts[key], 0);
    if (sum !== batch.counts.total) note(`counts add up to ${sum}, total is ${batch.counts.total}`);
    if (FINAL_BATCH.has(batch.status) && batch.counts.queued + batch.counts.running + batch.counts.retrying > 0) {
      note(`${batch.status} with tasks still queued, running or retrying: ${JSON.stringify(batch.counts)}`);
    }
    if (before) {
      if (batch.version < before.version || (batch.version === before.version && !this.#fresh)) {
        note(`version went from ${before.version} to ${batch.version}`);
      }
      for (const key of ["succeeded", "failed", "canceled", "expired"] as const) {
        if (batch.counts[key] < before.counts[key]) note(`${key} went from ${before.counts[key]} to ${batch.counts[key]}`);
      }
      if (FINAL_BATCH.has(before.status) && batch.status !== before.status) note(`final ${before.status} became ${batch.status}`);
    }
    // A final task's row never changes again (progress is written to running tasks only), so it
    // is never listed again either: a second listing means something wrote over a final outcome.
    for (const task of event.changedTasks) {
      const seen = this.#tasks.get(task.id);
      if (seen && FINAL_TASK.has(seen)) note(`task ${task.id} was ${seen}, then listed again as ${task.status}`);
      this.#tasks.set(task.id, task.status);
    }
    this.#fresh = false;
    this.events.push(event);
    this.note(`v${batch.version} ${batch.status} ${event.changedTasks.length} tasks`);
  }
}

export class Subscribers {
  readonly all: Subscriber[] = [];
  /** Reconnections per client after its socket died. */
  readonly reconnects: number[];
  readonly #clients: Client[];
  /** The subscribers whose stream is open, per client: a dying socket takes all of them. */
  readonly #open: Set<Subscriber>[];
  #disposed = false;

  constructor(wsUrl: string, clients: number) {
    this.reconnects = Array.from({ length: clients }, () => 0);
    this.#open = Array.from({ length: clients }, () => new Set<Subscriber>());
    const connected = Array.from({ length: clients }, () => false);
    this.#clients = Array.from({ length: clients }, (_, i) =>
      createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: Number.POSITIVE_INFINITY,
        shouldRetry: () => true, // a refused connection too: the API process may be restarting
        retryWait: (retries) => sleep(Math.min(2_000, 200 * (retries + 1))),
        on: {
          connected: (_socket, _payload, wasRetry) => {
            connected[i] = true;
            if (wasRetry) this.reconnects[i]!++;
          },
          closed: () => {
            if (!connected[i]) return; // a connection attempt that failed, not a socket dying
            connected[i] = false;
            for (const subscriber of this.#open[i]!) {
              subscriber.socketDeaths++;
              subscriber.restarted();
              subscriber.note("socket died");
            }
          },
        },
      }),
    );
  }

  get clientCount(): number {
    return this.#clients.length;
  }

  /** Subscribes to the batch's jobProgress on client `client`, until its final event. */
  watch(batchId: string, client: number): Subscriber {
    const subscriber = new Subscriber(batchId, client);
    this.all.push(subscriber);
    this.#subscribe(subscriber);
    return subscriber;
  }

  /**
   * One subscription attempt. It ends once: with the final event, or with an error (an error
   * result, a fatal close, or a stream completed before its final event), after which the next
   * attempt starts. An operation that failed may still send a complete; it is ignored.
   */
  #subscribe(subscriber: Subscriber): void {
    if (this.#disposed) return;
    const open = this.#open[subscriber.client]!;
    subscriber.subscriptions++;
    subscriber.restarted();
    subscriber.note(`subscribe #${subscriber.subscriptions}`);
    open.add(subscriber);
    let ended = false;
    let unsubscribe = () => {};
    const end = () => {
      if (ended) return false;
      ended = true;
      open.delete(subscriber);
      unsubscribe();
      return true;
    };
    const again = (why: string) => {
      if (!end()) return;
      subscriber.errors.push(why);
      subscriber.note(`ended: ${why}`);
      void sleep(500).then(() => this.#subscribe(subscriber));
    };
    unsubscribe = this.#clients[subscriber.client]!.subscribe<{ jobProgress: ProgressEvent }>(
      { query: JOB_PROGRESS, variables: { batchId: subscriber.batchId } },
      {
        next: (result) => {
          if (ended) return;
          if (result.errors?.length) return again(result.errors.map((e) => e.message).join("; "));
          subscriber.record(result.data!.jobProgress);
        },
        error: (error) => {
          if (!ended) again(describe(error));
        },
        complete: () => {
          if (ended || this.#disposed) return;
          if (FINAL_BATCH.has(subscriber.last?.batch.status ?? "")) {
            end();
            subscriber.completed = true;
            subscriber.note("complete");
          } else {
            subscriber.anomalies.push(`the stream completed after ${subscriber.events.length} events, none of them final`);
            again("completed before the final event");
          }
        },
      },
    );
  }

  /** Kills client `client`'s socket, as a network failure would; it reconnects and resubscribes. */
  dropSocket(client: number): boolean {
    if (this.#open[client]!.size === 0) return false;
    this.#clients[client]!.terminate();
    return true;
  }

  pending(): Subscriber[] {
    return this.all.filter((s) => !s.completed);
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    await Promise.all(this.#clients.map((client) => client.dispose()));
  }
}

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join("; ");
  if (error && typeof error === "object" && "code" in error) {
    const close = error as { code: number; reason?: string };
    return `socket closed ${close.code} ${close.reason ?? ""}`.trim();
  }
  return error instanceof Error ? error.message : String(error);
}
