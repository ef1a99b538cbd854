// clients.ts: the clients the benchmark drives batchwire with: GraphQL over HTTP POST and
// jobProgress over graphql-ws, as a user's program would.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export const BATCH_FIELDS = `id status progress version createdAt startedAt finishedAt
  counts { total queued running retrying succeeded failed canceled }`;

export interface BatchView {
  id: string;
  status: string;
  progress: number;
  version: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: { total: number; queued: number; running: number; retrying: number; succeeded: number; failed: number; canceled: number };
}

export interface TaskInput {
  kind: string;
  input: unknown;
}

const SUBMIT = `mutation Submit($input: SubmitBatchInput!) {
  submitBatch(input: $input) { batch { ${BATCH_FIELDS} } }
}`;

const BATCH = `query Batch($id: ID!) { batch(id: $id) { ${BATCH_FIELDS} } }`;

export const JOB_PROGRESS = `subscription Watch($batchId: ID!) {
  jobProgress(batchId: $batchId) {
    batch { ${BATCH_FIELDS} }
    changedTasks { id index status attempts progress }
    changedTasksTruncated
  }
}`;

export interface ProgressEventView {
  batch: BatchView;
  changedTasks: { id: string; index: number; status: string; attempts: number; progress: number | null }[];
  changedTasksTruncated: boolean;
}

export async function gql<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
  return gqlBody<T>(url, JSON.stringify({ query, variables }));
}

/** POSTs a body already serialised (the benchmark builds large bodies before its clock starts). */
export async function gqlBody<T>(url: string, body: string): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
    body,
  });
  const json = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (json.errors?.length || !json.data) throw new Error(`GraphQL errors (HTTP ${response.status}): ${JSON.stringify(json.errors)}`);
  return json.data;
}

export function submitBody(tasks: TaskInput[]): string {
  return JSON.stringify({ query: SUBMIT, variables: { input: { tasks } } });
}

export async function submit(url: string, tasks: TaskInput[]): Promise<BatchView> {
  return (await gqlBody<{ submitBatch: { batch: BatchView } }>(url, submitBody(tasks))).submitBatch.batch;
}

export async function getBatch(url: string, id: string): Promise<BatchView> {
  const { batch } = await gql<{ batch: BatchView | null }>(url, BATCH, { id });
  if (!batch) throw new Error(`batch ${id} not found`);
  return batch;
}

const FINAL = new Set(["COMPLETED", "CANCELED", "EXPIRED"]);

/** Polls batch(id) every `intervalMs` until it is final; fails after `timeoutMs`. */
export async function pollUntilFinal(url: string, id: string, timeoutMs: number, intervalMs = 100): Promise<BatchView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await getBatch(url, id);
    if (FINAL.has(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} not final after ${timeoutMs} ms (${JSON.stringify(batch.counts)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function wsClient(url: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

export interface ReceivedEvent {
  /** performance.timeOrigin + performance.now() when the message was handed to us. */
  at: number;
  event: ProgressEventView;
}

export interface Subscription {
  events: ReceivedEvent[];
  /** Resolves when the server completes the stream (the batch is final). */
  completed: Promise<void>;
  firstEvent: Promise<void>;
  /** Messages received so far (kept in `events` only when asked). */
  received(): number;
  unsubscribe(): void;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** jobProgress on one batch; `keepEvents: false` only counts the messages (many subscribers). */
export function subscribe(client: Client, batchId: string, { keepEvents = true } = {}): Subscription {
  const events: ReceivedEvent[] = [];
  let resolveFirst!: () => void;
  const firstEvent = new Promise<void>((resolve) => (resolveFirst = resolve));
  let unsubscribe!: () => void;
  let count = 0;
  const completed = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe<{ jobProgress: ProgressEventView }>(
      { query: JOB_PROGRESS, variables: { batchId } },
      {
        next: (result) => {
          const at = nowMs();
          if (result.errors?.length) return reject(new Error(result.errors[0]!.message));
          if (keepEvents) events.push({ at, event: result.data!.jobProgress });
          if (++count === 1) resolveFirst();
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(),
      },
    );
  });
  completed.catch(() => undefined);
  return { events, completed, firstEvent, received: () => count, unsubscribe };
}
