// graphqlSse.ts: the GraphQL over Server-Sent Events protocol (graphql-sse) at /graphql/stream, in
// both of its modes: distinct connections (an event stream per operation) and single connection (a
// reserved stream that carries many operations). Every request authenticates with its API key like
// any other HTTP request, and operations run through yoga's envelop, so masking, limits and the
// stream guard apply. A reserved stream belongs to the key that reserved it, counts against that
// key's connections, ends when the key is revoked, and is dropped if not opened in time.
import { randomUUID } from "node:crypto";
import { GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult } from "graphql";
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from "graphql-sse";
import { createHandler } from "graphql-sse/lib/use/fetch";
import type { Plugin, YogaInitialContext } from "graphql-yoga";
import type { Principal } from "../auth/authenticator.ts";
import type { SessionRegistry, Session } from "../auth/sessions.ts";
import { isDatabaseUnavailable } from "../db/outage.ts";
import { ErrorCode, RETRY_AFTER_SECONDS } from "../errors.ts";
import type { ApiKeyAuth } from "./authPlugin.ts";

export const SSE_ENDPOINT = "/graphql/stream";

export interface GraphQLSseOptions {
  apiKeys: ApiKeyAuth;
  sessions: SessionRegistry;
  maxConnectionsPerKey: number;
  /** Time a reserved stream has to be opened, in ms. */
  reservationTimeoutMs: number;
}

interface Reservation {
  keyId: string | null;
  session: Session;
  timer: NodeJS.Timeout;
  /** Ends the open event stream (the key was revoked). */
  end?: () => void;
}

// Headers a cross-site page cannot send without a CORS preflight (see yoga's CSRF rule in yoga.ts).
const PREFLIGHTED_HEADERS = ["x-graphql-csrf", "graphql-client-name", "apollo-require-preflight", "authorization", TOKEN_HEADER_KEY];
const SIMPLE_CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

function preflighted(request: Request): boolean {
  if (!["GET", "HEAD", "POST"].includes(request.method)) return true; // PUT, DELETE: never "simple"
  const type = request.headers.get("content-type")?.toLowerCase();
  if (type && !SIMPLE_CONTENT_TYPES.some((simple) => type.startsWith(simple))) return true;
  return PREFLIGHTED_HEADERS.some((header) => request.headers.has(header));
}

function json(status: number, message: string, code: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** A refusal in graphql-sse's own response shape, from its `authenticate` hook. */
function refusal(status: number, statusText: string, message: string, code?: string) {
  const body = JSON.stringify({ errors: [{ message, ...(code && { extensions: { code } }) }] });
  return [body, { status, statusText, headers: { "content-type": "application/json; charset=utf-8" } }] as const;
}

function tokenOf(request: Request): string | undefined {
  return request.headers.get(TOKEN_HEADER_KEY) ?? new URL(request.url).searchParams.get(TOKEN_QUERY_KEY) ?? undefined;
}

/** `body`, passed on until `end()` is called (which cancels the source, ending its operations). */
function endable(body: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; end: () => void } {
  const reader = body.getReader();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    pull: async (c) => {
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return {
    stream,
    end: () => {
      void reader.cancel().catch(() => undefined);
      try {
        controller.close();
      } catch {
        // already closed
      }
    },
  };
}

export function useGraphQLSse(options: GraphQLSseOptions): Plugin {
  const { apiKeys, sessions } = options;
  const reservations = new Map<string, Reservation>();
  /** Requests we make ourselves, to drop a reservation that was never opened. */
  const internal = new WeakSet<Request>();
  let handler: (request: Request) => Promise<Response>;

  const principalOf = (request: Request): Principal => apiKeys.principalOf(request)!;

  const drop = (token: string): void => {
    const reservation = reservations.get(token);
    if (!reservation) return;
    reservations.delete(token);
    clearTimeout(reservation.timer);
    reservation.session.close();
    if (reservation.end) return reservation.end();
    // Never opened: open it ourselves and cancel it at once, which makes graphql-sse forget it.
    const request = new Request(`http://localhost${SSE_ENDPOINT}`, { headers: { accept: "text/event-stream", [TOKEN_HEADER_KEY]: token } });
    internal.add(request);
    void handler(request).then((response) => response.body?.cancel(), () => undefined);
  };

  return {
    onYogaInit({ yoga }) {
      handler = createHandler(
        {
          authenticate: (req) => {
            const token = tokenOf(req.raw);
            if (internal.has(req.raw)) return token;
            const principal = principalOf(req.raw);
            if (req.method === "PUT") {
              // The graphql-sse client sends its previous token again when it reconnects.
              const reserved = token ?? randomUUID();
              if (reservations.has(reserved)) return refusal(409, "Conflict", "Stream already registered");
              const session = sessions.open(principal, () => drop(reserved));
              if (!session) {
                const message = `an API key holds at most ${options.maxConnectionsPerKey} open connections (MAX_CONNECTIONS_PER_KEY)`;
                return refusal(429, "Too Many Requests", message, ErrorCode.TOO_MANY_SUBSCRIPTIONS);
              }
              const timer = setTimeout(() => drop(reserved), options.reservationTimeoutMs);
              timer.unref();
              reservations.set(reserved, { keyId: principal.keyId, session, timer });
              return reserved;
            }
            if (token === undefined) return undefined; // distinct connections mode
            // Another key's stream is answered like one that does not exist.
            if (reservations.get(token)?.keyId !== principal.keyId) {
              return refusal(404, "Not Found", "Stream not found");
            }
            return token;
          },
          // yoga's envelop runs the operation: masking, operation limits, the stream guard.
          onSubscribe: async (req, params) => {
            const enveloped = yoga.getEnveloped({ request: req.raw, params } as unknown as YogaInitialContext);
            let document;
            try {
              document = enveloped.parse(params.query);
            } catch (error) {
              if (error instanceof GraphQLError) return { data: null, errors: [error] }; // a syntax error, or over MAX_QUERY_TOKENS
              throw error;
            }
            const errors = enveloped.validate(enveloped.schema, document);
            if (errors.length > 0) return { data: null, errors };
            const args: ExecutionArgs = {
              schema: enveloped.schema,
              document,
              contextValue: await enveloped.contextFactory(),
              variableValues: params.variables,
              operationName: params.operationName,
            };
            const operation = getOperationAST(document, params.operationName);
            const result = (await (operation?.operation === "subscription" ? enveloped.subscribe(args) : enveloped.execute(args))) as
              | AsyncIterable<ExecutionResult>
              | ExecutionResult;
            // graphql-sse takes a result for one only when it has `data` (a refusal has errors alone).
            return Symbol.asyncIterator in result ? result : { data: null, ...result };
          },
        },
        yoga.fetchAPI,
      );
    },

    onRequest({ request, url, endResponse }) {
      if (url.pathname !== SSE_ENDPOINT) return;
      return (async () => {
        if (!preflighted(request)) return endResponse(json(403, "Required CSRF header(s) not present", "FORBIDDEN"));
        try {
          await apiKeys.authenticate(request);
        } catch (error) {
          if (error instanceof GraphQLError) {
            return endResponse(json(401, error.message, ErrorCode.UNAUTHENTICATED, { "www-authenticate": 'Bearer realm="batchwire"' }));
          }
          if (isDatabaseUnavailable(error)) {
            return endResponse(
              json(503, "the service cannot reach its database right now; try again shortly", ErrorCode.SERVICE_UNAVAILABLE, {
                "retry-after": String(RETRY_AFTER_SECONDS),
              }),
            );
          }
          throw error;
        }
        const response = await handler(request);
        const token = tokenOf(request);
        const reservation = token === undefined ? undefined : reservations.get(token);
        // A reserved stream being opened: it lives until the client leaves or its key is revoked.
        if (reservation && response.body && response.headers.get("content-type")?.startsWith("text/event-stream")) {
          clearTimeout(reservation.timer);
          const { stream, end } = endable(response.body);
          reservation.end = end;
          request.signal.addEventListener("abort", () => drop(token!), { once: true });
          return endResponse(new Response(stream, { status: response.status, headers: response.headers }));
        }
        endResponse(response);
      })();
    },
  };
}
