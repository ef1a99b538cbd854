// requestGate.ts: what the HTTP server decides from a request's headers alone, before it reads a
// byte of the body: the API key (401), the declared size (413), and framing Node's parser
// refuses (400, as when Content-Length and Transfer-Encoding come together). A request refused
// here is answered at once with `connection: close`, whatever its body is still sending.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { GraphQLError } from "graphql";
import type { Authenticator, Principal } from "../auth/authenticator.ts";
import type { ClientLog } from "../clientLog.ts";
import { isDatabaseUnavailable } from "../db/outage.ts";
import { ErrorCode, RETRY_AFTER_SECONDS, serviceUnavailable } from "../errors.ts";
import { payloadTooLarge } from "./bodyLimit.ts";

/** Requests the gate authenticated, for yoga's context (authPlugin.ts): one key check per request. */
const gated = new WeakMap<IncomingMessage, Principal>();

export function gatedPrincipal(req: IncomingMessage | undefined): Principal | undefined {
  return req ? gated.get(req) : undefined;
}

/** A request that carries a body, in either framing. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

function errorBody(message: string, code: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] });
}

function answerAndClose(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(body)), connection: "close", ...headers });
  res.end(body);
}

export interface RequestGateOptions {
  auth: Authenticator;
  maxRequestBytes: number;
  clientLog: ClientLog;
}

/**
 * For a request with a body: its principal once the key and the declared length pass, or
 * undefined when the gate has answered it.
 */
export async function passGate(req: IncomingMessage, res: ServerResponse, { auth, maxRequestBytes, clientLog }: RequestGateOptions): Promise<Principal | undefined> {
  let principal: Principal;
  try {
    principal = await auth.authenticate(req.headers.authorization);
  } catch (error) {
    if (error instanceof GraphQLError) {
      clientLog("debug", { reason: error.message }, "request refused before its body: no valid API key");
      answerAndClose(res, 401, errorBody(error.message, ErrorCode.UNAUTHENTICATED), { "www-authenticate": 'Bearer realm="batchwire"' });
      return undefined;
    }
    clientLog("warn", { reason: error instanceof Error ? error.message : String(error) }, "API key check failed");
    if (isDatabaseUnavailable(error)) {
      const { message } = serviceUnavailable();
      answerAndClose(res, 503, errorBody(message, ErrorCode.SERVICE_UNAVAILABLE), { "retry-after": String(RETRY_AFTER_SECONDS) });
    } else {
      answerAndClose(res, 500, errorBody("Unexpected error.", "INTERNAL_SERVER_ERROR"));
    }
    return undefined;
  }
  // Node holds a body with a Content-Length to exactly that length; a chunked one is counted as
  // it streams (bodyLimit.ts).
  if (Number(req.headers["content-length"] ?? 0) > maxRequestBytes) {
    const { message, extensions } = payloadTooLarge(maxRequestBytes);
    answerAndClose(res, 413, errorBody(message, ErrorCode.PAYLOAD_TOO_LARGE, { maxRequestBytes: extensions.maxRequestBytes }));
    return undefined;
  }
  gated.set(req, principal);
  return principal;
}

/**
 * Node's answer to a request its parser refuses (conflicting or malformed framing, headers too
 * large, too slow), with a body that says why and a code, like every other client error.
 */
export function answerClientError(error: Error & { code?: string; reason?: string }, socket: Duplex, clientLog: ClientLog): void {
  clientLog("debug", { code: error.code, reason: error.reason ?? error.message }, "malformed HTTP request refused");
  // As Node's own handler does: no answer into a response already under way on this socket.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, text] =
    error.code === "HPE_HEADER_OVERFLOW" ? [431, "Request Header Fields Too Large"] : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? [408, "Request Timeout"] : [400, "Bad Request"];
  const body = errorBody(`malformed HTTP request: ${error.reason ?? error.code ?? "unparseable"}`, ErrorCode.BAD_REQUEST);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
