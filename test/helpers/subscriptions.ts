// subscriptions.ts: jobProgress through the typed client's watch() over a real WebSocket, collected.
import { print } from "graphql";
import { createClient, type BatchwireClient, type JobProgressEvent } from "../../src/client/index.ts";
import { JobProgressDocument } from "../../src/client/generated.ts";

export interface ProgressEventView {
  batch: JobProgressEvent["batch"];
  changedTasks: NonNullable<JobProgressEvent["changedTasks"]>;
  changedTasksTruncated: boolean;
}

/** The client's jobProgress subscription, for tests that speak graphql-ws themselves. */
export const JOB_PROGRESS = print(JobProgressDocument);

export interface Watcher {
  events: ProgressEventView[];
  /** Resolves when the server completes the stream; rejects with the client's BatchwireError. */
  completed: Promise<void>;
  /** Resolves once at least one event has arrived. */
  firstEvent: Promise<ProgressEventView>;
  unsubscribe(): void;
}

/** A typed client for a server's ws:// URL (key optional); by default it never reconnects. */
export function wsClient(url: string, options: { retryAttempts?: number; key?: string } = {}): BatchwireClient {
  return createClient({ url, key: options.key, retryAttempts: options.retryAttempts ?? 0 });
}

export function watch(client: BatchwireClient, batchId: string): Watcher {
  const events: ProgressEventView[] = [];
  let resolveFirst!: (event: ProgressEventView) => void;
  const firstEvent = new Promise<ProgressEventView>((resolve) => (resolveFirst = resolve));
  const stream = client.watch(batchId);
  const completed = (async () => {
    for await (const event of stream) {
      events.push({ ...event, changedTasks: event.changedTasks ?? [] });
      if (events.length === 1) resolveFirst(events[0]!);
    }
  })();
  completed.catch(() => undefined);
  return { events, completed, firstEvent, unsubscribe: () => void stream.return?.() };
}

/** Versions strictly increase and finished-task counts never go backwards. */
export function expectMonotonic(events: ProgressEventView[]): void {
  for (let i = 1; i < events.length; i++) {
    const before = events[i - 1]!.batch;
    const after = events[i]!.batch;
    if (after.version <= before.version) throw new Error(`version went from ${before.version} to ${after.version}`);
    for (const key of ["succeeded", "failed", "canceled"] as const) {
      if (after.counts[key] < before.counts[key]) throw new Error(`${key} went from ${before.counts[key]} to ${after.counts[key]}`);
    }
    if (after.progress < before.progress) throw new Error(`progress went from ${before.progress} to ${after.progress}`);
  }
}
