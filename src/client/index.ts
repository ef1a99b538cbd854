// index.ts: `batchwire/client`, the typed client: GraphQL over HTTP, jobProgress over graphql-ws,
// uploads as GraphQL multipart requests and results as the JSONL download. Its operation types
// are generated (generated.ts); the CLI, the benchmark and the tests' helpers use it.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { lines } from "../batches/jsonl.ts";
import { BatchwireError, ClientErrorCode, connectionFailed, type GraphQLErrorShape } from "./errors.ts";
import {
  BatchDocument,
  BatchesDocument,
  CancelBatchDocument,
  JobProgressDocument,
  RetryFailedTasksDocument,
  SubmitBatchDocument,
  SubmitBatchFileDocument,
  TaskKindsDocument,
  type BatchFieldsFragment,
  type BatchStatus,
  type JobProgressSubscription,
  type SubmitBatchInput,
  type TaskKindsQuery,
  type TaskStatus,
} from "./generated.ts";

export { BatchwireError, ClientErrorCode, type TaskError } from "./errors.ts";
export type { BatchStatus, TaskStatus } from "./generated.ts";

export type Batch = BatchFieldsFragment;
export type JobProgressEvent = JobProgressSubscription["jobProgress"];
export type TaskKind = TaskKindsQuery["taskKinds"][number];

export interface TaskInput {
  kind: string;
  input: unknown;
  customId?: string | null;
}

export type SubmitOptions = Omit<SubmitBatchInput, "tasks">;

export interface FileSubmission extends SubmitOptions {
  /** A JSONL file: a path (Node; streamed from disk) or a Blob. */
  file: string | Blob;
  /** The kind of the lines that name none. */
  kind?: string | null;
}

/** One line of GET /batches/{id}/results.jsonl. */
export interface ResultLine {
  index: number;
  customId: string | null;
  kind: string;
  status: TaskStatus;
  attempts: number;
  result: unknown;
  error: { message: string; code: string } | null;
}

export interface ClientOptions {
  /** The server, such as http://localhost:4000 (ws:// works too; a trailing /graphql is allowed). */
  url: string;
  /** An API key (`bw_…`); leave it out while the server is open (development, no key yet). */
  key?: string;
  /** The WebSocket class graphql-ws uses; the global one by default (Node 22+, browsers). */
  webSocketImpl?: unknown;
  /** Reconnections watch() tries after a dropped socket before it fails (default 10). */
  retryAttempts?: number;
}

export interface WatchOptions {
  /** Leave out changedTasks (the batch's snapshot is all that comes); default true. */
  withTasks?: boolean;
}

export interface BatchwireClient {
  /** Submits tasks (submitBatch) or a JSONL file (submitBatchFile); resolves with the queued batch. */
  submit(tasks: TaskInput[], options?: SubmitOptions): Promise<Batch>;
  submit(file: FileSubmission): Promise<Batch>;
  /** jobProgress events until the batch is final; survives dropped sockets (see README). */
  watch(batchId: string, options?: WatchOptions): AsyncIterableIterator<JobProgressEvent>;
  /** The results download, parsed line by line as it arrives. */
  results(batchId: string, options?: { status?: TaskStatus }): AsyncIterableIterator<ResultLine>;
  /** The results download as the bytes arrive (to save it as it is). */
  resultsBody(batchId: string, options?: { status?: TaskStatus }): Promise<ReadableStream<Uint8Array>>;
  /** null when no batch of yours has this id. */
  batch(id: string): Promise<Batch | null>;
  /** Your batches, newest first, one page. */
  batches(options?: { first?: number; after?: string; status?: BatchStatus }): Promise<{ batches: Batch[]; endCursor: string | null; hasNextPage: boolean }>;
  cancel(id: string): Promise<Batch>;
  retryFailed(id: string): Promise<Batch>;
  taskKinds(): Promise<TaskKind[]>;
  /** Closes the WebSocket, if one is open. */
  dispose(): Promise<void>;
}

const printed = new WeakMap<object, string>();
function queryOf(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
}

/** A result line longer than this is refused rather than held (a task's result is unbounded). */
const MAX_RESULT_LINE_BYTES = 256 * 1024 * 1024; // 256 MiB
/** The longest wait before a reconnection: 10 attempts take about a minute and a half. */
const MAX_RETRY_WAIT_MS = 10_000;
/** The server closes a socket with this code when its key is refused: retrying would not help. */
const FORBIDDEN_CLOSE = 4403;

/** A file on disk as a Blob that is read as it is sent (Node only). */
async function openFile(path: string): Promise<Blob> {
  const fs = await import("node:fs");
  try {
    await fs.promises.access(path, fs.constants.R_OK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`, { cause: error });
  }
  return fs.openAsBlob(path);
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && "code" in value && "reason" in value;
}

export function createClient(options: ClientOptions): BatchwireClient {
  const base = options.url.replace(/^ws/, "http").replace(/\/+$/, "").replace(/\/graphql$/, "");
  const endpoint = `${base}/graphql`;
  const authorization: Record<string, string> = options.key ? { authorization: `Bearer ${options.key}` } : {};
  let ws: WsClient | undefined;
  /** Sockets opened so far: a subscription that spans more than one has been made again. */
  let connections = 0;

  async function send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      throw connectionFailed(url, error);
    }
  }

  async function errorOf(response: Response): Promise<BatchwireError> {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { errors?: GraphQLErrorShape[] };
      if (body.errors?.length) return BatchwireError.fromGraphQL(body.errors, response.status);
    } catch {
      // not JSON: described below
    }
    return new BatchwireError(`HTTP ${response.status} from ${response.url}: ${text.slice(0, 200)}`, {
      code: ClientErrorCode.BAD_RESPONSE,
      status: response.status,
    });
  }

  async function result<T>(response: Response): Promise<T> {
    if (!(response.headers.get("content-type") ?? "").includes("json")) throw await errorOf(response);
    const body = (await response.json()) as { data?: T | null; errors?: GraphQLErrorShape[] };
    if (body.errors?.length) throw BatchwireError.fromGraphQL(body.errors, response.status);
    if (!body.data) throw new BatchwireError(`HTTP ${response.status} without data`, { code: ClientErrorCode.BAD_RESPONSE, status: response.status });
    return body.data;
  }

  async function request<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
    const response = await send(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...authorization },
      body: JSON.stringify({ query: queryOf(document), variables }),
    });
    return result<T>(response);
  }

  async function submitFile({ file, ...input }: FileSubmission): Promise<Batch> {
    const blob = typeof file === "string" ? await openFile(file) : file;
    const name = typeof file === "string" ? file.split(/[\\/]/).pop()! : "tasks.jsonl";
    // The GraphQL multipart request: the operation, where its file goes, then the file, which the
    // server reads as it arrives.
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: queryOf(SubmitBatchFileDocument), variables: { input: { ...input, file: null } } }));
    form.set("map", JSON.stringify({ file: ["variables.input.file"] }));
    form.set("file", blob, name);
    const response = await send(endpoint, {
      method: "POST",
      // A form post is what cross-site pages can send; this header is what they cannot (CSRF).
      headers: { accept: "application/graphql-response+json, application/json", "x-graphql-csrf": "batchwire-client", ...authorization },
      body: form,
    });
    return (await result<{ submitBatchFile: { batch: Batch } }>(response)).submitBatchFile.batch;
  }

  function socket(): WsClient {
    ws ??= createWsClient({
      url: endpoint.replace(/^http/, "ws"),
      webSocketImpl: options.webSocketImpl,
      connectionParams: authorization,
      lazy: true,
      retryAttempts: options.retryAttempts ?? 10,
      // A drop reaches graphql-ws as a close event (ws) or an error event first (Node's own
      // WebSocket); either is retried. A refused key is not.
      shouldRetry: (event) => !(isCloseEvent(event) && event.code === FORBIDDEN_CLOSE),
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, MAX_RETRY_WAIT_MS) * (0.5 + Math.random()))),
      on: { connected: () => void connections++ },
    });
    return ws;
  }

  function watchError(error: unknown): BatchwireError {
    if (error instanceof BatchwireError) return error;
    if (Array.isArray(error)) return BatchwireError.fromGraphQL(error as GraphQLErrorShape[]);
    if (isCloseEvent(error)) {
      const code = error.code === FORBIDDEN_CLOSE ? "UNAUTHENTICATED" : ClientErrorCode.CONNECTION_FAILED;
      return new BatchwireError(`the WebSocket to ${endpoint} closed (${error.code}${error.reason ? ` ${error.reason}` : ""})`, { code, cause: error });
    }
    return new BatchwireError(`cannot reach ${endpoint}: ${(error as Error)?.message ?? "WebSocket error"}`, {
      code: ClientErrorCode.CONNECTION_FAILED,
      cause: error,
    });
  }

  async function* watch(batchId: string, { withTasks = true }: WatchOptions = {}): AsyncIterableIterator<JobProgressEvent> {
    // graphql-ws subscribes again after a socket it may retry drops; the server then starts from
    // the current snapshot, so nothing is lost, and a snapshot already yielded is skipped.
    const events = socket().iterate<JobProgressSubscription>({ query: queryOf(JobProgressDocument), variables: { batchId, withTasks } });
    let version = -1;
    let connection = -1;
    try {
      for await (const next of events) {
        if (next.errors?.length) throw BatchwireError.fromGraphQL(next.errors);
        const event = next.data!.jobProgress;
        // Only a snapshot that came again on a new socket is dropped; the server never repeats one.
        if (connection !== -1 && connections !== connection && event.batch.version <= version) continue;
        version = event.batch.version;
        connection = connections;
        yield event;
      }
    } catch (error) {
      throw watchError(error);
    } finally {
      await events.return?.();
    }
  }

  async function resultsBody(batchId: string, { status }: { status?: TaskStatus } = {}): Promise<ReadableStream<Uint8Array>> {
    const url = `${base}/batches/${encodeURIComponent(batchId)}/results.jsonl${status ? `?status=${status}` : ""}`;
    const response = await send(url, { headers: authorization });
    if (!response.ok || !response.body) throw await errorOf(response);
    return response.body;
  }

  async function* results(batchId: string, options: { status?: TaskStatus } = {}): AsyncIterableIterator<ResultLine> {
    const body = await resultsBody(batchId, options);
    for await (const line of lines(body as unknown as AsyncIterable<Uint8Array>, MAX_RESULT_LINE_BYTES)) {
      if ("problem" in line) throw new BatchwireError(`results line ${line.number}: ${line.problem}`, { code: ClientErrorCode.BAD_RESPONSE });
      if (line.text !== "") yield JSON.parse(line.text) as ResultLine;
    }
  }

  return {
    submit: (async (tasks: TaskInput[] | FileSubmission, submitOptions: SubmitOptions = {}) =>
      Array.isArray(tasks)
        ? (await request(SubmitBatchDocument, { input: { ...submitOptions, tasks } })).submitBatch.batch
        : submitFile(tasks)) as BatchwireClient["submit"],
    watch,
    results,
    resultsBody,
    batch: async (id) => (await request(BatchDocument, { id })).batch,
    batches: async ({ first, after, status } = {}) => {
      const { batches } = await request(BatchesDocument, { first, after, status });
      return { batches: batches.edges.map((edge) => edge.node), endCursor: batches.pageInfo.endCursor, hasNextPage: batches.pageInfo.hasNextPage };
    },
    cancel: async (id) => (await request(CancelBatchDocument, { id })).cancelBatch.batch,
    retryFailed: async (id) => (await request(RetryFailedTasksDocument, { batchId: id })).retryFailedTasks.batch,
    taskKinds: async () => (await request(TaskKindsDocument, {})).taskKinds,
    dispose: async () => {
      await ws?.dispose();
      ws = undefined;
    },
  };
}
