// subscriptions.ts: a real graphql-ws client over a real WebSocket, collecting jobProgress events.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { BatchView } from "./batches.ts";
import { BATCH_FIELDS } from "./batches.ts";

export interface ProgressEventView {
  batch: BatchView;
  changedTasks: { id: string; index: number; status: string; attempts: number; progress: number | null }[];
  changedTasksTruncated: boolean;
}

export const JOB_PROGRESS = `subscription Watch($batchId: ID!) {
  jobProgress(batchId: $batchId) {
    batch { ${BATCH_FIELDS} }
    changedTasks { id index status attempts progress }
    changedTasksTruncated
  }
}`;

export interface Watcher {
  events: ProgressEventView[];
  /** Resolves when the server completes the stream; rejects with the GraphQL errors. */
  completed: Promise<void>;
  /** Resolves once at least one event has arrived. */
  firstEvent: Promise<ProgressEventView>;
  unsubscribe(): void;
}

export function wsClient(url: string, options: { retryAttempts?: number } = {}): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: options.retryAttempts ?? 0, lazy: true });
}

export function watch(client: Client, batchId: string): Watcher {
  const events: ProgressEventView[] = [];
  let resolveFirst!: (event: ProgressEventView) => void;
  const firstEvent = new Promise<ProgressEventView>((resolve) => (resolveFirst = resolve));
  let unsubscribe!: () => void;
  const completed = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe<{ jobProgress: ProgressEventView }>(
      { query: JOB_PROGRESS, variables: { batchId } },
      {
        next: (result) => {
          if (result.errors?.length) return reject(Object.assign(new Error(result.errors[0]!.message), { errors: result.errors }));
          const event = result.data!.jobProgress;
          events.push(event);
          if (events.length === 1) resolveFirst(event);
        },
        error: (error) => reject(Array.isArray(error) ? Object.assign(new Error(error[0]?.message), { errors: error }) : error),
        complete: () => resolve(),
      },
    );
  });
  completed.catch(() => undefined);
  return { events, completed, firstEvent, unsubscribe };
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
