// clients.ts: how the benchmark drives batchwire: the typed client (src/client), as a user's program
// would, plus submit bodies serialised before a clock starts (a 100,000-task body takes a while).
import { print } from "graphql";
import { createClient, type Batch, type BatchwireClient, type JobProgressEvent } from "../src/client/index.ts";
import { SubmitBatchDocument } from "../src/client/generated.ts";

export type BatchView = Batch;
export type ProgressEventView = JobProgressEvent;

export interface TaskInput {
  kind: string;
  input: unknown;
}

const SUBMIT = print(SubmitBatchDocument);

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

/** The typed client's submitBatch, serialised. */
export function submitBody(tasks: TaskInput[]): string {
  return JSON.stringify({ query: SUBMIT, variables: { input: { tasks } } });
}

export async function submit(url: string, tasks: TaskInput[]): Promise<BatchView> {
  return createClient({ url }).submit(tasks);
}

export async function getBatch(url: string, id: string): Promise<BatchView> {
  const batch = await createClient({ url }).batch(id);
  if (!batch) throw new Error(`batch ${id} not found`);
  return batch;
}

const FINAL = new Set(["COMPLETED", "CANCELED", "EXPIRED"]);

/** Polls batch(id) every `intervalMs` until it is final; fails after `timeoutMs`. */
export async function pollUntilFinal(url: string, id: string, timeoutMs: number, intervalMs = 100): Promise<BatchView> {
  const client = createClient({ url });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batch(id);
    if (!batch) throw new Error(`batch ${id} not found`);
    if (FINAL.has(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} not final after ${timeoutMs} ms (${JSON.stringify(batch.counts)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** One client, one WebSocket (opened by its first watch), never reconnecting: a drop is a failure. */
export function wsClient(url: string): BatchwireClient {
  return createClient({ url, retryAttempts: 0 });
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

/** jobProgress on one batch through the client's watch(); `keepEvents: false` only counts (many subscribers). */
export function subscribe(client: BatchwireClient, batchId: string, { keepEvents = true } = {}): Subscription {
  const events: ReceivedEvent[] = [];
  let resolveFirst!: () => void;
  const firstEvent = new Promise<void>((resolve) => (resolveFirst = resolve));
  let count = 0;
  const stream = client.watch(batchId);
  const completed = (async () => {
    for await (const event of stream) {
      const at = nowMs();
      if (keepEvents) events.push({ at, event });
      if (++count === 1) resolveFirst();
    }
  })();
  completed.catch(() => undefined);
  return { events, completed, firstEvent, received: () => count, unsubscribe: () => void stream.return?.() };
}
