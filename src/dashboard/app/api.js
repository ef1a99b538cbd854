// api.js: the dashboard's data layer: the API key (kept in this tab's session storage), GraphQL
// over HTTP, and one graphql-ws socket whose state the header shows. Data arrives by events on
// that socket; the page re-reads only when the socket (re)connects, never on a timer.
import { createClient } from "graphql-ws";

const KEY_ITEM = "batchwire.apiKey";
/** The server says whether it asks for a key (production, or once a key exists). */
const keysRequired = document.querySelector('meta[name="batchwire-keys"]')?.getAttribute("content") === "required";
/** graphql-ws close code of a refused key (missing, unknown or revoked). */
const FORBIDDEN = 4403;

const state = {
  key: sessionStorage.getItem(KEY_ITEM),
  /** The server refused the key in use (or asked for one while none was given). */
  keyRejected: false,
  /** connecting | live | reconnecting | offline */
  socket: "connecting",
};
const listeners = new Set();

export const getState = () => state;

export function onStateChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function update(patch) {
  Object.assign(state, patch);
  for (const listener of [...listeners]) listener(state);
}

/** Whether the page must ask for a key before it can show anything. */
export const needsKey = () => state.keyRejected || (keysRequired && !state.key);
export const keyInUse = () => keysRequired || state.key !== null;

export function setKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
  closeSocket();
  update({ key, keyRejected: false, socket: "connecting" });
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
  closeSocket();
  update({ key: null, keyRejected: false });
}

function rejectKey() {
  closeSocket();
  update({ keyRejected: true });
}

const authorization = () => (state.key ? `Bearer ${state.key}` : undefined);

export class RequestError extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join("; "));
    this.errors = errors;
  }
}

/** One query or mutation over HTTP; resolves with `data`, rejects with a RequestError. */
export async function request(query, variables = {}) {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  if (state.key) headers.authorization = authorization();
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  if (response.status === 401) {
    rejectKey();
    throw new RequestError([{ message: "the server refused the API key" }]);
  }
  const body = await response.json();
  if (body.errors?.length) throw new RequestError(body.errors);
  return body.data;
}

let client;
const connectedListeners = new Set();

/** Calls `listener(wasRetry)` each time the socket is (re)connected: the moment to re-read. */
export function onConnected(listener) {
  connectedListeners.add(listener);
  return () => connectedListeners.delete(listener);
}

const isRefusal = (event) => typeof event === "object" && event !== null && event.code === FORBIDDEN;

function socket() {
  client ??= createClient({
    url: `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`,
    lazy: false,
    keepAlive: 10_000, // a ping every 10 s finds a dead connection
    retryAttempts: Infinity,
    // Up to 5 s between attempts: a dashboard should come back soon after the server does.
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5_000) + Math.random() * 500)),
    shouldRetry: (event) => !isRefusal(event),
    connectionParams: () => (state.key ? { authorization: authorization() } : {}),
    onNonLazyError: (error) => (isRefusal(error) ? rejectKey() : update({ socket: "offline" })),
    on: {
      connecting: (isRetry) => update({ socket: isRetry ? "reconnecting" : "connecting" }),
      connected: (_socket, _payload, wasRetry) => {
        update({ socket: "live" });
        for (const listener of [...connectedListeners]) listener(wasRetry);
      },
      closed: (event) => {
        if (isRefusal(event)) rejectKey();
        else if (state.socket === "live") update({ socket: "reconnecting" });
      },
    },
  });
  return client;
}

function closeSocket() {
  const old = client;
  client = undefined;
  void old?.dispose();
}

/**
 * Runs a subscription; `next` gets each event's data. Returns the function that ends it. On a
 * lost socket, graphql-ws subscribes again once it has reconnected.
 */
export function subscribe(query, variables, { next, error, complete }) {
  return socket().subscribe(
    { query, variables },
    {
      next: (result) => (result.errors ? error?.(new RequestError(result.errors)) : next(result.data)),
      error: (failure) => {
        if (isRefusal(failure)) return rejectKey();
        error?.(Array.isArray(failure) ? new RequestError(failure) : new Error("the connection failed"));
      },
      complete: () => complete?.(),
    },
  );
}

/** Where a batch's results can be downloaded as JSONL. */
export function resultsUrl(batchId) {
  return `/batches/${encodeURIComponent(batchId)}/results.jsonl`;
}

/** Downloads a URL of the API with the key (a plain link cannot send a header). */
export async function download(url, filename) {
  const response = await fetch(url, { headers: state.key ? { authorization: authorization() } : {} });
  if (response.status === 401) return rejectKey();
  if (!response.ok) throw new Error(`the download failed (HTTP ${response.status})`);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}
