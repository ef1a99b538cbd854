// ws.ts: graphql-ws on the HTTP server's /graphql path, through yoga's envelop so every yoga
// plugin (masking, limits) applies to WebSocket operations as to HTTP. A connection authenticates
// once, in connection_init; its key is checked again on every operation and while it is open.
import type { IncomingMessage, Server } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { GraphQLError, type DocumentNode, type ExecutionArgs } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocket, WebSocketServer } from "ws";
import type { Authenticator, Principal } from "../auth/authenticator.ts";
import type { SessionRegistry } from "../auth/sessions.ts";
import { tooManySubscriptions, unauthenticated } from "../errors.ts";
import type { ClientLog } from "../clientLog.ts";
import type { Logger } from "../logger.ts";
import { originAllowed } from "./origins.ts";
import { guardClientMessages } from "./wsMessageGuard.ts";
import type { BatchwireYoga } from "./yoga.ts";

export interface WebSocketOptions {
  auth: Authenticator;
  sessions: SessionRegistry;
  log: Logger;
  /** For lines a client can cause (rate-limited). */
  clientLog: ClientLog;
  production: boolean;
  /** Largest message; a larger one closes that socket with 1009 (ws's maxPayload). */
  maxPayloadBytes: number;
  /** Time to send connection_init, and then to be authenticated, in ms. */
  initTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  maxConnectionsPerKey: number;
  /** Origins whose browser pages may open a socket (besides our own host's). */
  corsOrigins: string[];
}

/** Close codes of our own, beside graphql-ws's (4400 bad message, 4401 unacknowledged, 4403 forbidden, ...). */
export const WsCloseCode = {
  /** Sent with the reason "TOO_MANY_SUBSCRIPTIONS: …": the key holds its most connections. */
  TooManyConnections: 4429,
  /** The server could not check the key (database trouble); retrying later may work. */
  TryAgainLater: 1013,
} as const;

export interface WebSocketHandle {
  close(): Promise<void>;
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

const TIMED_OUT = Symbol("timed out");

/** As yoga labels them over HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (typeof error.extensions?.code === "string") return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

export function attachWebSocket(server: Server, yoga: BatchwireYoga, options: WebSocketOptions): WebSocketHandle {
  const { auth, sessions, log, clientLog } = options;
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: options.maxPayloadBytes,
    // Another site's page is answered with HTTP 403 before any socket exists.
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) =>
      originAllowed(req.headers.origin, req.headers.host, options.corsOrigins) ? done(true) : done(false, 403, "Forbidden origin"),
  });
  /** The principal each acknowledged socket authenticated as. */
  const principals = new WeakMap<WebSocket, Principal>();
  const revokedClose = (socket: WebSocket) => socket.close(CloseCode.Forbidden, "Forbidden: API key revoked");

  const disposable = useServer(
    {
      isProd: options.production,
      connectionInitWaitTimeout: options.initTimeoutMs,
      // Returning false closes the socket with 4403 Forbidden.
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const abort = new AbortController();
        let principal: Principal | typeof TIMED_OUT;
        try {
          principal = await Promise.race([
            auth.authenticate(ctx.connectionParams?.authorization),
            delay(options.initTimeoutMs, TIMED_OUT, { signal: abort.signal }),
          ]);
        } catch (error) {
          if (error instanceof GraphQLError) return false;
          clientLog("warn", { reason: error instanceof Error ? error.message : String(error) }, "WebSocket authentication failed");
          socket.close(WsCloseCode.TryAgainLater, "Try again later");
          return false;
        } finally {
          abort.abort();
        }
        if (principal === TIMED_OUT) {
          socket.close(CloseCode.ConnectionInitialisationTimeout, "Connection initialisation timeout");
          return false;
        }
        if (socket.readyState !== WebSocket.OPEN) return false;
        const session = sessions.open(principal, () => revokedClose(socket));
        if (!session) {
          socket.close(WsCloseCode.TooManyConnections, `TOO_MANY_SUBSCRIPTIONS: at most ${options.maxConnectionsPerKey} connections per API key`);
          return false;
        }
        socket.once("close", () => session.close());
        principals.set(socket, principal);
        return true;
      },
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      // Never throws: graphql-ws would close the whole socket (4500) for one bad operation.
      onSubscribe: async (ctx, _id, params) => {
        const socket = ctx.extra.socket;
        const principal = principals.get(socket);
        if (!principal) return [unauthenticated("the connection is not authenticated")];
        // ctx.subscriptions already holds this operation.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptionsPerConnection) {
          return [
            tooManySubscriptions(
              `a connection runs at most ${options.maxSubscriptionsPerConnection} operations at once (MAX_SUBSCRIPTIONS_PER_CONNECTION)`,
            ),
          ];
        }
        try {
          if (!(await auth.stillValid(principal))) {
            revokedClose(socket);
            return [unauthenticated("the API key was revoked")];
          }
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            req: ctx.extra.request,
            socket,
            params,
            principal,
          });
          let document: DocumentNode;
          try {
            document = parse(params.query);
          } catch (error) {
            if (error instanceof GraphQLError && error.originalError == null) return [withCode(error, "GRAPHQL_PARSE_FAILED")];
            throw error;
          }
          const errors = validate(schema, document);
          if (errors.length) return errors;
          return {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe } satisfies EnvelopedRoot,
          } satisfies ExecutionArgs;
        } catch (error) {
          // Parse and validation errors are the client's; anything wrapping another error is masked.
          if (error instanceof GraphQLError && error.originalError == null) return [error];
          log.error({ err: error }, "WebSocket operation failed before it ran");
          return [new GraphQLError("Unexpected error.", { extensions: { code: "INTERNAL_SERVER_ERROR" } })];
        }
      },
    },
    wss,
  );
  // use/ws answers a socket error with console.error; here they are the client's doing (a message
  // over maxPayload, a malformed frame) and ws has already closed that socket (1009, 1002).
  wss.on("connection", (socket) => {
    socket.removeAllListeners("error");
    socket.on("error", (error) => clientLog("debug", { reason: error.message }, "WebSocket closed on a protocol error"));
    guardClientMessages(socket, clientLog);
  });
  return {
    close: async () => {
      for (const client of wss.clients) client.close(1001, "Going away");
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
