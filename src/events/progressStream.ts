// progressStream.ts: one subscriber's stream of batch snapshots: the current one first, newer ones
// at most every `minIntervalMs`, the final one always, then the end.
import { Repeater } from "graphql-yoga";
import { FINAL_BATCH_STATUSES, type BatchRow, type TaskRow } from "../batches/rows.ts";
import type { EventHub } from "./hub.ts";

export interface ProgressEvent {
  batch: BatchRow;
  /** Tasks whose status or progress changed since this subscriber's previous event, by index. */
  changedTasks: TaskRow[];
  changedTasksTruncated: boolean;
}

export interface ProgressStreamOptions {
  /** Least time between two events to one subscriber, in ms (100 = at most 10 a second). */
  minIntervalMs: number;
}

// Each event is executed and sent once per subscriber. Past a few hundred subscribers of one
// batch in one process, each one's interval grows by this much per subscriber, which caps the
// events this process sends for one batch near 1,000 a second whatever the audience.
const INTERVAL_PER_SUBSCRIBER_MS = 1;

/** `snapshot` is the batch as read just now; it becomes the first event. */
export function progressStream(hub: EventHub, snapshot: BatchRow, options: ProgressStreamOptions): AsyncIterableIterator<ProgressEvent> {
  return new Repeater<ProgressEvent>(async (push, stop) => {
    let latest = snapshot;
    let sentVersion = -1;
    let sentAt = 0;
    let changed = new Map<string, TaskRow>();
    let truncated = false;
    let timer: NodeJS.Timeout | undefined;
    let sending = false;
    let done = false;

    const send = async () => {
      timer = undefined;
      if (done || sending || latest.version <= sentVersion) return;
      sending = true;
      const event: ProgressEvent = {
        batch: latest,
        changedTasks: [...changed.values()].sort((a, b) => a.index - b.index),
        changedTasksTruncated: truncated,
      };
      changed = new Map();
      truncated = false;
      sentVersion = latest.version;
      sentAt = Date.now();
      try {
        await push(event);
      } finally {
        sending = false;
      }
      if (FINAL_BATCH_STATUSES.includes(event.batch.status)) {
        done = true;
        stop();
      } else schedule();
    };

    const schedule = () => {
      if (done || timer || sending || latest.version <= sentVersion) return;
      const interval = Math.max(options.minIntervalMs, hub.watchers(snapshot.id) * INTERVAL_PER_SUBSCRIBER_MS);
      timer = setTimeout(() => void send(), Math.max(0, sentAt + interval - Date.now()));
    };

    const unwatch = hub.watch(snapshot.id, snapshot.version, (update) => {
      if (update.batch.version <= latest.version) return;
      latest = update.batch;
      for (const task of update.tasks) {
        if (changed.size >= hub.taskLimit && !changed.has(task.id)) truncated = true;
        else changed.set(task.id, task);
      }
      if (update.tasksTruncated) truncated = true;
      schedule();
    });
    // A change that committed between our read and the watch is picked up by this read.
    hub.poke(snapshot.id);
    schedule();

    await stop;
    done = true;
    clearTimeout(timer);
    unwatch();
  });
}
