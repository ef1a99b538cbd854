// hub.ts: one LISTEN connection per API process; reads each changed batch once per window and
// fans the snapshot out to every local watcher of that batch.
//
// NOTIFY only says "batch X reached version V". The hub coalesces notifications for a short
// window, reads the changed batches (and their changed tasks) in one go, and hands each watcher
// the snapshot. A periodic sweep and a re-read after every reconnect cover notifications that
// were lost: an event may come late, never wrong. Owner watchers (the tenant-wide feeds) get every
// changed batch of their owner, read once per version for all of them (ownerWatchers.ts).
import pg from "pg";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import type { BatchRow, TaskRow } from "../batches/rows.ts";
import { getChangedBatches, getOwnersBatchesChangedSince } from "../batches/sql/getChangedBatches.ts";
import { changedTasks, type VersionRange } from "../batches/sql/changedTasks.ts";
import { BATCH_CHANGED_CHANNEL, parseBatchChanged } from "./channel.ts";
import { OwnerWatchers, type OwnerListener } from "./ownerWatchers.ts";

export interface BatchUpdate {
  batch: BatchRow;
  /** Tasks that changed since the previous update of this batch, newest first. */
  tasks: TaskRow[];
  /** More tasks changed than `tasks` holds. */
  tasksTruncated: boolean;
}

export type BatchListener = (update: BatchUpdate) => void;

export interface EventHubOptions {
  /** How long notifications are gathered before one read, in ms. */
  windowMs?: number;
  /** How often every watched batch is re-read whatever was heard, in ms. */
  sweepMs?: number;
  /** How often the LISTEN connection is checked with a query, in ms. */
  healthCheckMs?: number;
  /** Most changed tasks read per batch per read. */
  taskLimit?: number;
}

interface ListenerState {
  /** The batch version this listener has seen; it gets only newer ones. */
  version: number;
  /** Whether it wants changed tasks; when no listener does, the tasks are not read. */
  tasks: boolean;
}

interface Watched {
  listeners: Map<BatchListener, ListenerState>;
}

/**
 * After a reconnect, owner watchers get the batches that changed since the last moment the old
 * connection was known to work (its last health check), minus this margin for notifications
 * still in flight then.
 */
const CATCH_UP_MARGIN_MS = 30_000;
/** Most batches re-read for owner watchers after a reconnect, newest first. */
const CATCH_UP_LIMIT = 1_000;

function oldestVersion(watched: Watched, tasksOnly = false): number {
  let oldest = Infinity;
  for (const state of watched.listeners.values()) {
    if (!tasksOnly || state.tasks) oldest = Math.min(oldest, state.version);
  }
  return oldest;
}

export class EventHub {
  readonly #pool: Pool;
  readonly #connectionString: string;
  readonly #log: Logger;
  readonly #windowMs: number;
  readonly #sweepMs: number;
  readonly #healthCheckMs: number;
  readonly taskLimit: number;
  readonly #watched = new Map<string, Watched>();
  readonly #owners = new OwnerWatchers();
  #dirty = new Set<string>();
  /** The database's clock when the LISTEN connection last answered (its start or a health check). */
  #healthyAt: Date | undefined;
  /** Owner watchers' batches changed since then are re-read at the next read (after a reconnect). */
  #catchUpSince: Date | undefined;
  #client: pg.Client | undefined;
  #readTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();
  #stopped = false;
  #connected = false;

  constructor(pool: Pool, connectionString: string, log: Logger, options: EventHubOptions = {}) {
    this.#pool = pool;
    this.#connectionString = connectionString;
    this.#log = log.child({ component: "event-hub" });
    this.#windowMs = options.windowMs ?? 25;
    this.#sweepMs = options.sweepMs ?? 5_000;
    this.#healthCheckMs = options.healthCheckMs ?? 10_000;
    this.taskLimit = options.taskLimit ?? 100;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async start(): Promise<void> {
    await this.#connect();
    this.#sweepTimer = setInterval(() => this.#markAllDirty(), this.#sweepMs);
    this.#healthTimer = setInterval(() => void this.#checkHealth(), this.#healthCheckMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sweepTimer);
    clearInterval(this.#healthTimer);
    clearTimeout(this.#readTimer);
    clearTimeout(this.#reconnectTimer);
    await this.#reading;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  /**
   * Calls `listener` with every newer snapshot of the batch until the returned function is
   * called. `knownVersion` is the version of a snapshot the caller has already read.
   */
  watch(batchId: string, knownVersion: number, listener: BatchListener, options: { tasks?: boolean } = {}): () => void {
    let watched = this.#watched.get(batchId);
    if (!watched) {
      watched = { listeners: new Map() };
      this.#watched.set(batchId, watched);
    }
    const entry = watched;
    entry.listeners.set(listener, { version: knownVersion, tasks: options.tasks ?? true });
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.#watched.get(batchId) === entry) this.#watched.delete(batchId);
    };
  }

  /**
   * Calls `listener` with every newer snapshot of every batch `owner` has (created, progress,
   * status), read after commit, until the returned function is called.
   */
  watchOwner(owner: string, listener: OwnerListener): () => void {
    return this.#owners.add(owner, listener);
  }

  /** Re-reads a batch soon even without a notification (a watcher that just subscribed uses it). */
  poke(batchId: string): void {
    this.#markDirty(batchId);
  }

  get watchedBatches(): number {
    return this.#watched.size;
  }

  /** How many watchers this process has for one batch. */
  watchers(batchId: string): number {
    return this.#watched.get(batchId)?.listeners.size ?? 0;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, application_name: "batchwire-listen", keepAlive: true });
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, new Error("LISTEN connection ended")));
    client.on("notification", (message) => {
      const payload = parseBatchChanged(message.payload);
      if (!payload) return;
      const watched = this.#watched.get(payload.b);
      if ((watched && payload.v > oldestVersion(watched)) || this.#owners.wants(payload.b, payload.v)) this.#markDirty(payload.b);
    });
    await client.connect();
    await client.query(`listen ${BATCH_CHANGED_CHANNEL}`);
    const previous = this.#healthyAt;
    this.#healthyAt = (await client.query<{ now: Date }>("select now() as now")).rows[0]!.now;
    this.#client = client;
    this.#connected = true;
    this.#log.debug("listening for batch changes");
    // Whatever changed while we were not listening is read now.
    if (previous) this.#catchUpSince = new Date(previous.getTime() - CATCH_UP_MARGIN_MS);
    this.#markAllDirty();
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#connected = false;
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    this.#log.warn({ err: error }, "LISTEN connection lost; reconnecting");
    this.#scheduleReconnect(100);
  }

  #scheduleReconnect(delayMs: number): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(async () => {
      if (this.#stopped || this.#client) return;
      try {
        await this.#connect();
        this.#log.info("LISTEN connection restored");
      } catch (error) {
        this.#log.warn({ err: error }, "LISTEN reconnect failed");
        this.#scheduleReconnect(Math.min(delayMs * 2, 5_000));
      }
    }, delayMs);
  }

  async #checkHealth(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("LISTEN health check timed out")), 5_000).unref());
    try {
      const { rows } = await Promise.race([client.query<{ now: Date }>("select now() as now"), timeout]);
      this.#healthyAt = rows[0]!.now;
    } catch (error) {
      this.#lost(client, error as Error);
    }
  }

  #markAllDirty(): void {
    for (const id of this.#watched.keys()) this.#markDirty(id);
    if (this.#catchUpSince) this.#scheduleRead();
  }

  #markDirty(batchId: string): void {
    this.#dirty.add(batchId);
    this.#scheduleRead();
  }

  #scheduleRead(): void {
    this.#readTimer ??= setTimeout(() => {
      this.#readTimer = undefined;
      this.#reading = this.#reading.then(() => this.#read());
    }, this.#windowMs);
  }

  async #read(): Promise<void> {
    const owners = this.#owners.owners();
    const watchedIds = [...this.#dirty].filter((id) => this.#watched.has(id));
    const ids = owners.length > 0 ? [...this.#dirty] : watchedIds;
    const catchUpSince = owners.length > 0 ? this.#catchUpSince : undefined;
    this.#dirty = new Set();
    this.#catchUpSince = undefined;
    if ((ids.length === 0 && !catchUpSince) || this.#stopped) return;
    try {
      const rows = ids.length > 0 ? await getChangedBatches(this.#pool, ids, watchedIds, owners) : [];
      const batches = rows.filter((batch) => {
        const watched = this.#watched.get(batch.id);
        return watched !== undefined && batch.version > oldestVersion(watched);
      });
      const ranges = new Map<string, VersionRange>();
      for (const batch of batches) {
        const oldest = oldestVersion(this.#watched.get(batch.id)!, true);
        // Tasks stamped after this read of the batch belong to the next update.
        if (oldest < batch.version) ranges.set(batch.id, { since: oldest, upTo: batch.version });
      }
      const tasks = await changedTasks(this.#pool, ranges, this.taskLimit + 1);
      const tasksByBatch = Map.groupBy(tasks, (task) => task.batch_id);
      for (const batch of batches) {
        const watched = this.#watched.get(batch.id);
        if (!watched) continue;
        const read = tasksByBatch.get(batch.id) ?? [];
        const truncated = read.length > this.taskLimit;
        for (const [listener, state] of watched.listeners) {
          if (batch.version <= state.version) continue;
          const mine = state.tasks ? read.filter((task) => task.batch_version > state.version).slice(0, this.taskLimit) : [];
          state.version = batch.version;
          listener({ batch, tasks: mine, tasksTruncated: state.tasks && truncated });
        }
      }
      this.#owners.dispatch(rows, ids.filter((id) => !this.#watched.has(id)));
      if (catchUpSince) this.#owners.dispatch(await getOwnersBatchesChangedSince(this.#pool, owners, catchUpSince, CATCH_UP_LIMIT));
    } catch (error) {
      // The next notification, sweep or reconnect reads these again.
      this.#log.warn({ err: error }, "reading changed batches failed");
      for (const id of ids) this.#dirty.add(id);
      if (catchUpSince) this.#catchUpSince = catchUpSince;
    }
  }
}
