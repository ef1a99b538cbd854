// auth.ts: API keys for tests, HTTP requests with a key and headers of choice, and a raw
// graphql-transport-ws socket for protocol-level checks.
import type pg from "pg";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { generateKey } from "../../src/auth/apiKeys.ts";
import { insertApiKey } from "../../src/auth/sql/insertApiKey.ts";
import { revokeApiKey } from "../../src/auth/sql/revokeApiKey.ts";

export interface TestKey {
  id: string;
  key: string;
  tenant: string;
}

/** A key made the way `npm run keys -- create` makes one, straight into the table. */
export async function createKey(pool: pg.Pool, tenant: string): Promise<TestKey> {
  const { key, prefix, hash } = generateKey();
  const row = await insertApiKey(pool, { tenant, prefix, hash, name: "test" });
  return { id: row.id, key, tenant };
}

export async function revokeKey(pool: pg.Pool, key: TestKey): Promise<void> {
  await revokeApiKey(pool, key.id);
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  text: string;
}

export interface RequestOptions {
  key?: string;
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
  operationName?: string;
}

/** POST /graphql as JSON with an optional Bearer key; never throws on an error status. */
export async function post<T = Record<string, unknown>>(url: string, query: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables ?? {}, operationName: options.operationName }),
  });
  const text = await response.text();
  let body: { data?: T | null; errors?: HttpResult["errors"] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON (a 413 from a proxy, an HTML page): the text says what it was
  }
  return { status: response.status, headers: response.headers, text, ...body };
}

export function codes(result: { errors?: { extensions?: Record<string, unknown> }[] }): unknown[] {
  return (result.errors ?? []).map((e) => e.extensions?.code);
}

/** A graphql-ws client that sends `authorization` in connection_init. */
export function keyedClient(url: string, key: string | undefined, options: { lazy?: boolean } = {}): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: options.lazy ?? true,
    connectionParams: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
}

export interface OperationOutcome {
  results: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[];
  /** GraphQL errors of an `error` message, or the CloseEvent the socket ended with. */
  error?: unknown;
  completed: boolean;
}

/** Runs one operation on a graphql-ws client to its end (complete or error). */
export function runOperation(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<OperationOutcome> {
  return new Promise((resolve) => {
    const outcome: OperationOutcome = { results: [], completed: false };
    client.subscribe(
      { query, variables },
      {
        next: (result) => void outcome.results.push(result as OperationOutcome["results"][number]),
        error: (error) => resolve({ ...outcome, error }),
        complete: () => resolve({ ...outcome, completed: true }),
      },
    );
  });
}

/** The `extensions.code`s of an operation's errors (error message or results). */
export function operationCodes(outcome: OperationOutcome): unknown[] {
  const fromError = Array.isArray(outcome.error) ? (outcome.error as { extensions?: { code?: unknown } }[]).map((e) => e.extensions?.code) : [];
  return [...fromError, ...outcome.results.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code))];
}

export function operationMessages(outcome: OperationOutcome): string[] {
  const fromError = Array.isArray(outcome.error) ? (outcome.error as { message: string }[]).map((e) => e.message) : [];
  return [...fromError, ...outcome.results.flatMap((r) => (r.errors ?? []).map((e) => e.message))];
}

export interface RawSocket {
  socket: WebSocket;
  messages: Record<string, unknown>[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first message (seen or yet to come) that `match` accepts. */
  next(match: (message: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** A bare graphql-transport-ws socket: the test speaks the protocol itself. */
export function rawSocket(url: string): RawSocket {
  const socket = new WebSocket(url, "graphql-transport-ws");
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  socket.on("message", (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on("error", () => undefined);
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  opened.catch(() => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  return {
    socket,
    messages,
    opened,
    closed,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    next: async (match, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(match);
        if (found) return found;
        if (socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed before the message came: ${JSON.stringify(messages)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no such message within ${timeoutMs} ms: ${JSON.stringify(messages)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

/** Opens a raw socket and completes the connection_init handshake with `key`. */
export async function acknowledgedSocket(url: string, key?: string): Promise<RawSocket> {
  const raw = rawSocket(url);
  await raw.opened;
  raw.send({ type: "connection_init", payload: key ? { authorization: `Bearer ${key}` } : {} });
  await raw.next((m) => m.type === "connection_ack");
  return raw;
}
