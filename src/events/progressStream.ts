// progressStream.ts: jobProgress streams, one per subscriber, fed by one BatchFeed per watched
// batch in this process. Each subscriber gets the current snapshot first, newer ones at most once
// per throttle slot, the final one always, then the end.
//
// The subscribers of one batch share everything they can: one hub watcher, one log of the
// batch's updates, one timer, and one event object for every subscriber that last saw the same
// version. The throttle runs on a clock-aligned grid (slots of the interval), so subscribers that
// joined at different moments fall into step and share their events; the GraphQL execution of a
// shared event is then shared too (src/server/sharedExecution.ts).
import { Repeater } from "graphql-yoga";
import { FINAL_BATCH_STATUSES, type BatchRow, type TaskRow } from "../batches/rows.ts";
import type { BatchUpdate, EventHub } from "./hub.ts";

export interface ProgressEvent {
  batch: BatchRow;
  /** Tasks whose status or progress changed since this subscriber's previous event, by index. */
  changedTasks: TaskRow[];
  changedTasksTruncated: boolean;
}

export interface ProgressFeedOptions {
  /**
   * The throttle's slot, in ms: after its first event, a subscriber gets at most one event per
   * slot of the clock (100 = at most 10 a second).
   */
  minIntervalMs: number;
}

// Each send still costs a serialisation and a socket write per subscriber. Past a few hundred
// subscribers of one batch in one process, the interval grows by this much per subscriber,
// which caps the messages this process sends for one batch near 1,000 a second.
const INTERVAL_PER_SUBSCRIBER_MS = 1;

interface Subscriber {
  /** The batch version of the last event pushed. */
  sentVersion: number;
  /** When the last event was pushed, in ms since the epoch. */
  sentAt: number;
  /** A push the consumer has not taken yet: no other is made meanwhile. */
  sending: boolean;
  done: boolean;
  push(event: ProgressEvent): Promise<unknown>;
  stop(): void;
}

const isFinal = (batch: BatchRow) => FINAL_BATCH_STATUSES.includes(batch.status);

/** One hub update, as the log keeps it. */
interface LogEntry {
  version: number;
  /** The tasks whose newest row came with this update (a newer update takes a task over). */
  tasks: Map<string, TaskRow>;
  /** Changes up to `version` that no row in the log lists. */
  truncated: boolean;
}

/** One watched batch: its latest snapshot, the updates some subscriber has not seen, the subscribers. */
class BatchFeed {
  readonly #hub: EventHub;
  readonly #minIntervalMs: number;
  readonly #subscribers = new Set<Subscriber>();
  /** The newest snapshot the hub has given (or the first subscriber read). */
  #latest: BatchRow;
  /**
   * Updates newer than the oldest version any subscriber was sent, oldest first. Each task is
   * kept once, in its newest row: an event filters rows by their batch version, so an older row
   * of the same task is never needed.
   */
  #log: LogEntry[] = [];
  /** The log entry holding each task's row. */
  readonly #entryOf = new Map<string, LogEntry>();
  /** The newest version whose changes are no longer all in the log. */
  #floor = -1;
  /** Events built for #latest, by the version they start from. */
  #events = new Map<number, ProgressEvent>();
  #timer: NodeJS.Timeout | undefined;
  readonly #unwatch: () => void;

  constructor(hub: EventHub, snapshot: BatchRow, minIntervalMs: number) {
    this.#hub = hub;
    this.#minIntervalMs = minIntervalMs;
    this.#latest = snapshot;
    this.#unwatch = hub.watch(snapshot.id, snapshot.version, (update) => this.#onUpdate(update));
  }

  get empty(): boolean {
    return this.#subscribers.size === 0;
  }

  /** Adds a subscriber whose first event is `snapshot`, or the feed's own if that is newer. */
  join(snapshot: BatchRow, push: Subscriber["push"], stop: Subscriber["stop"]): Subscriber {
    // The log may not reach back to an older snapshot; the feed's newer one needs no log.
    const first = this.#latest.version > snapshot.version ? this.#latest : snapshot;
    const subscriber: Subscriber = { sentVersion: -1, sentAt: 0, sending: false, done: false, push, stop };
    this.#subscribers.add(subscriber);
    this.#send(subscriber, { batch: first, changedTasks: [], changedTasksTruncated: false }, Date.now());
    // A change that committed between the caller's read and the watch is picked up by this read.
    this.#hub.poke(snapshot.id);
    return subscriber;
  }

  leave(subscriber: Subscriber): void {
    subscriber.done = true;
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unwatch();
  }

  #onUpdate(update: BatchUpdate): void {
    if (update.batch.version <= this.#latest.version) return;
    const entry: LogEntry = { version: update.batch.version, tasks: new Map(), truncated: update.tasksTruncated };
    for (const task of update.tasks) {
      this.#entryOf.get(task.id)?.tasks.delete(task.id);
      entry.tasks.set(task.id, task);
      this.#entryOf.set(task.id, entry);
    }
    this.#log.push(entry);
    this.#latest = update.batch;
    this.#events.clear();
    this.#trimLog();
    this.#schedule();
  }

  #interval(): number {
    return Math.max(this.#minIntervalMs, this.#subscribers.size * INTERVAL_PER_SUBSCRIBER_MS);
  }

  /** The first moment `subscriber` may be sent another event: the start of the next slot. */
  #dueAt(subscriber: Subscriber, interval: number): number {
    return (Math.floor(subscriber.sentAt / interval) + 1) * interval;
  }

  #waiting(subscriber: Subscriber): boolean {
    return !subscriber.done && !subscriber.sending && subscriber.sentVersion < this.#latest.version;
  }

  #schedule(): void {
    if (this.#timer) return;
    const interval = this.#interval();
    let due = Infinity;
    for (const subscriber of this.#subscribers) {
      if (this.#waiting(subscriber)) due = Math.min(due, this.#dueAt(subscriber, interval));
    }
    if (due === Infinity) return;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - Date.now()));
  }

  #tick(): void {
    this.#timer = undefined;
    const now = Date.now();
    const interval = this.#interval();
    for (const subscriber of this.#subscribers) {
      if (this.#waiting(subscriber) && this.#dueAt(subscriber, interval) <= now) this.#send(subscriber, this.#eventSince(subscriber.sentVersion), now);
    }
    this.#trimLog();
    this.#schedule();
  }

  #send(subscriber: Subscriber, event: ProgressEvent, now: number): void {
    subscriber.sentVersion = event.batch.version;
    subscriber.sentAt = now;
    subscriber.sending = true;
    void subscriber.push(event).then(() => {
      subscriber.sending = false;
      if (subscriber.done) return;
      if (isFinal(event.batch)) {
        subscriber.done = true;
        subscriber.stop();
      } else this.#schedule();
    });
  }

  /** The event for a subscriber last sent version `since`: built once for all who share it. */
  #eventSince(since: number): ProgressEvent {
    let event = this.#events.get(since);
    if (event) return event;
    const limit = this.#hub.taskLimit;
    const changed = new Map<string, TaskRow>();
    // A subscriber that lagged behind the log's cap misses changes the log no longer holds.
    let truncated = since < this.#floor;
    // Newest first, so each task is taken in its latest state.
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const entry = this.#log[i]!;
      if (entry.version <= since) break;
      if (entry.truncated) truncated = true;
      for (const task of entry.tasks.values()) {
        if (task.batch_version <= since) continue;
        if (changed.size < limit) changed.set(task.id, task);
        else truncated = true;
      }
    }
    event = {
      batch: this.#latest,
      changedTasks: [...changed.values()].sort((a, b) => a.index - b.index),
      changedTasksTruncated: truncated,
    };
    this.#events.set(since, event);
    return event;
  }

  /**
   * Keeps the log small: drops the updates every subscriber has been sent, then those no event
   * can use. An event carries at most `taskLimit` tasks, so once newer entries hold more rows
   * than that (one per task), a subscriber who would need older ones gets a truncated event
   * anyway (the floor marks it). Entries left without rows go too, their truncation passed on
   * to the next newer entry. A subscriber whose socket stalls thus cannot make the log grow.
   */
  #trimLog(): void {
    let oldest = Infinity;
    for (const subscriber of this.#subscribers) oldest = Math.min(oldest, subscriber.sentVersion);
    let keepFrom = 0;
    while (keepFrom < this.#log.length && this.#log[keepFrom]!.version <= oldest) keepFrom++;
    let rows = 0;
    let capFrom = this.#log.length;
    while (capFrom > keepFrom && rows <= this.#hub.taskLimit) rows += this.#log[--capFrom]!.tasks.size;
    if (capFrom > keepFrom) this.#floor = this.#log[capFrom - 1]!.version;
    const kept: LogEntry[] = [];
    this.#log.forEach((entry, i) => {
      const next = this.#log[i + 1];
      if (i >= capFrom && (entry.tasks.size > 0 || !next)) kept.push(entry);
      else {
        if (i >= capFrom && entry.truncated) next!.truncated = true;
        for (const id of entry.tasks.keys()) if (this.#entryOf.get(id) === entry) this.#entryOf.delete(id);
      }
    });
    this.#log = kept;
  }
}

/** The jobProgress streams of one process. */
export class ProgressFeeds {
  readonly #hub: EventHub;
  readonly #options: ProgressFeedOptions;
  readonly #feeds = new Map<string, BatchFeed>();

  constructor(hub: EventHub, options: ProgressFeedOptions) {
    this.#hub = hub;
    this.#options = options;
  }

  /** One subscriber's stream; `snapshot` is the batch as read just now. */
  stream(snapshot: BatchRow): AsyncIterableIterator<ProgressEvent> {
    return new Repeater<ProgressEvent>(async (push, stop) => {
      let feed = this.#feeds.get(snapshot.id);
      if (!feed) {
        feed = new BatchFeed(this.#hub, snapshot, this.#options.minIntervalMs);
        this.#feeds.set(snapshot.id, feed);
      }
      const subscriber = feed.join(snapshot, push, stop);
      await stop;
      feed.leave(subscriber);
      if (feed.empty && this.#feeds.get(snapshot.id) === feed) this.#feeds.delete(snapshot.id);
    });
  }
}
