// tenantFeed.ts: batchUpdates streams, one per subscriber, fed by one TenantFeed per tenant with
// subscribers in this process. A subscriber gets an event for each of its tenant's batches that
// changed (created, progress, status) since its previous one, at most one per batch per throttle
// slot: the same clock-aligned slots as jobProgress (progressStream.ts).
//
// The subscribers of one tenant share one hub owner watcher and one log: the newest snapshot of
// each batch that some subscriber has not been sent, in the order they changed. A subscriber is a
// position in that log. The log holds one entry per batch and at most `maxEntries` of them: a
// subscriber that falls that far behind (its socket stopped reading) is ended with
// SUBSCRIBER_TOO_SLOW instead of holding the log, and subscribes again.
import { Repeater } from "graphql-yoga";
import type { BatchRow, BatchStatus } from "../batches/rows.ts";
import type { OwnerListener } from "./ownerWatchers.ts";

export interface BatchUpdateEvent {
  batch: BatchRow;
}

/** The last thing a subscriber that fell too far behind receives. */
export const FELL_BEHIND = Symbol("fell behind");

export type TenantFeedItem = BatchUpdateEvent | typeof FELL_BEHIND;

/** Where a feed hears its tenant's batches: the event hub. */
export interface OwnerSource {
  watchOwner(owner: string, listener: OwnerListener): () => void;
}

export interface TenantFeedOptions {
  /** The throttle's slot, in ms (as jobProgress's). */
  minIntervalMs: number;
  /** Most batches the log of one tenant holds for subscribers that have not been sent them. */
  maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 1_000;

interface Entry {
  /** Position in the log: later changes have larger ones. */
  seq: number;
  event: BatchUpdateEvent;
}

interface Subscriber {
  status: BatchStatus | null;
  /** Every entry up to this seq has been sent (or skipped by the status filter). */
  cursor: number;
  /** When its last slot's sending started, in ms since the epoch. */
  sentAt: number;
  sending: boolean;
  done: boolean;
  push(item: TenantFeedItem): Promise<unknown>;
  stop(): void;
}

class TenantFeed {
  readonly #minIntervalMs: number;
  readonly #maxEntries: number;
  readonly #subscribers = new Set<Subscriber>();
  /** By batch id; a Map keeps insertion order, and a changed batch is re-inserted: seq order. */
  readonly #entries = new Map<string, Entry>();
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #unwatch: () => void;

  constructor(source: OwnerSource, owner: string, options: TenantFeedOptions) {
    this.#minIntervalMs = options.minIntervalMs;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#unwatch = source.watchOwner(owner, (batch) => this.#onBatch(batch));
  }

  get empty(): boolean {
    return this.#subscribers.size === 0;
  }

  /** Batches the log holds (tests check its bound). */
  get size(): number {
    return this.#entries.size;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** A subscriber that gets the changes from now on. */
  join(status: BatchStatus | null, push: Subscriber["push"], stop: Subscriber["stop"]): Subscriber {
    const subscriber: Subscriber = { status, cursor: this.#seq, sentAt: 0, sending: false, done: false, push, stop };
    this.#subscribers.add(subscriber);
    return subscriber;
  }

  leave(subscriber: Subscriber): void {
    subscriber.done = true;
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size > 0) return this.#trim();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries.clear();
    this.#unwatch();
  }

  #onBatch(batch: BatchRow): void {
    const entry = this.#entries.get(batch.id);
    if (entry && entry.event.batch.version >= batch.version) return;
    this.#entries.delete(batch.id);
    this.#entries.set(batch.id, { seq: ++this.#seq, event: { batch } });
    while (this.#entries.size > this.#maxEntries) this.#dropOldest();
    this.#schedule();
  }

  /** Drops the oldest entry; the subscribers that still needed it are ended. */
  #dropOldest(): void {
    const [id, oldest] = this.#entries.entries().next().value!;
    this.#entries.delete(id);
    for (const subscriber of this.#subscribers) {
      if (subscriber.cursor >= oldest.seq) continue;
      // Its stream's end calls leave(), which lets the hub go once nobody is left.
      subscriber.done = true;
      this.#subscribers.delete(subscriber);
      void subscriber.push(FELL_BEHIND);
      subscriber.stop();
    }
  }

  /** Forgets the entries every subscriber is past. */
  #trim(): void {
    let oldest = Infinity;
    for (const subscriber of this.#subscribers) oldest = Math.min(oldest, subscriber.cursor);
    for (const [id, entry] of this.#entries) {
      if (entry.seq > oldest) break;
      this.#entries.delete(id);
    }
  }

  #dueAt(subscriber: Subscriber): number {
    return (Math.floor(subscriber.sentAt / this.#minIntervalMs) + 1) * this.#minIntervalMs;
  }

  #waiting(subscriber: Subscriber): boolean {
    return !subscriber.done && !subscriber.sending && subscriber.cursor < this.#seq;
  }

  #schedule(): void {
    if (this.#timer) return;
    let due = Infinity;
    for (const subscriber of this.#subscribers) {
      if (this.#waiting(subscriber)) due = Math.min(due, this.#dueAt(subscriber));
    }
    if (due === Infinity) return;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - Date.now()));
  }

  #tick(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const subscriber of this.#subscribers) {
      if (this.#waiting(subscriber) && this.#dueAt(subscriber) <= now) void this.#send(subscriber, now);
    }
    this.#schedule();
  }

  /**
   * Sends the subscriber, one event at a time as its consumer takes them, every entry it has not
   * been sent that was in the log when its slot began. A batch that changes meanwhile moves to
   * the end of the log and waits for the next slot, so it is sent at most once per slot.
   */
  async #send(subscriber: Subscriber, now: number): Promise<void> {
    subscriber.sending = true;
    subscriber.sentAt = now;
    const upTo = this.#seq;
    // A Map's iterator sees entries deleted and re-inserted after it was made: those moved past
    // upTo end this slot's sending.
    for (const entry of this.#entries.values()) {
      if (subscriber.done || entry.seq > upTo) break;
      if (entry.seq <= subscriber.cursor) continue;
      subscriber.cursor = entry.seq;
      if (subscriber.status === null || entry.event.batch.status === subscriber.status) await subscriber.push(entry.event);
    }
    if (subscriber.done) return;
    subscriber.cursor = Math.max(subscriber.cursor, upTo);
    subscriber.sending = false;
    this.#trim();
    this.#schedule();
  }
}

/** The batchUpdates streams of one process. */
export class TenantFeeds {
  readonly #source: OwnerSource;
  readonly #options: TenantFeedOptions;
  readonly #feeds = new Map<string, TenantFeed>();

  constructor(source: OwnerSource, options: TenantFeedOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** One subscriber's stream of its tenant's changed batches, optionally only those in `status`. */
  stream(owner: string, status: BatchStatus | null): AsyncIterableIterator<TenantFeedItem> {
    return new Repeater<TenantFeedItem>(async (push, stop) => {
      let feed = this.#feeds.get(owner);
      if (!feed) {
        feed = new TenantFeed(this.#source, owner, this.#options);
        this.#feeds.set(owner, feed);
      }
      const subscriber = feed.join(status, push, stop);
      await stop;
      feed.leave(subscriber);
      if (feed.empty && this.#feeds.get(owner) === feed) this.#feeds.delete(owner);
    });
  }

  /** Batches held for the tenant's subscribers in this process (tests check the bound). */
  held(owner: string): number {
    return this.#feeds.get(owner)?.size ?? 0;
  }

  /** The tenant's subscribers in this process. */
  subscribers(owner: string): number {
    return this.#feeds.get(owner)?.subscribers ?? 0;
  }
}
