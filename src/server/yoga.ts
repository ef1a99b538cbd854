// yoga.ts: the GraphQL server (HTTP, GraphiQL, SSE, masking, CSRF), built apart from listening.
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { Authenticator, Principal } from "../auth/authenticator.ts";
import type { SessionRegistry } from "../auth/sessions.ts";
import type { ClientLog } from "../clientLog.ts";
import type { Logger } from "../logger.ts";
import type { Context, Services } from "../graphql/context.ts";
import { graphqlMetricsPlugins } from "../observability/graphqlMetrics.ts";
import { useOperationSpans } from "../observability/graphqlTracing.ts";
import type { Metrics } from "../observability/metrics.ts";
import { schema } from "../graphql/schema.ts";
import { useApiKeyAuth } from "./authPlugin.ts";
import { useRequestBodyLimit } from "./bodyLimit.ts";
import { useErrorPolicy } from "./errorPolicy.ts";
import { useGraphQLSse } from "./graphqlSse.ts";
import { limitPlugins, type OperationLimits } from "./limits.ts";
import { corsOptions } from "./origins.ts";
import { useSharedEventExecution } from "./sharedExecution.ts";
import { useStreamGuard } from "./streamGuard.ts";
import { maskUnlessUnavailable } from "./unavailable.ts";
import { useStreamingUploads } from "./uploads.ts";
import { GRAPHIQL_EXAMPLE } from "./graphiqlExample.ts";

export interface YogaOptions {
  services: Services;
  log: Logger;
  /** For lines a client can cause (rate-limited). */
  clientLog: ClientLog;
  auth: Authenticator;
  sessions: SessionRegistry;
  limits: OperationLimits;
  /** Production: no "Did you mean …?" in any error (it would name parts of the schema). */
  hideSuggestions: boolean;
  graphiql: boolean;
  maxConnectionsPerKey: number;
  /** Time a reserved graphql-sse stream has to be opened, in ms. */
  streamReservationTimeoutMs: number;
  /** Origins whose browser pages may call the API; none: same origin only. */
  corsOrigins: string[];
  /** MAX_REQUEST_BYTES: counted while a body streams (bodyLimit.ts; uploads.ts for multipart). */
  maxRequestBytes: number;
  metrics: Metrics;
}

export type BatchwireYoga = YogaServerInstance<Record<string, unknown>, Context>;

export function createBatchwireYoga(options: YogaOptions): BatchwireYoga {
  const { services, log } = options;
  const apiKeys = useApiKeyAuth(options.auth);
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    // yoga's default would answer every origin's preflight, credentials allowed.
    cors: corsOptions(options.corsOrigins),
    // ws.ts passes the principal its connection_init authenticated; HTTP's comes from authPlugin.
    context: ({ request, principal }: { request?: Request; principal?: Principal }) => {
      const caller = principal ?? (request && apiKeys.principalOf(request));
      if (!caller) throw new Error("a GraphQL context without an authenticated principal");
      return { services, tenant: caller.tenant, principal: caller };
    },
    // Unexpected errors reach clients as "Unexpected error." with no message, SQL or stack, in
    // every mode; yoga logs the original. A database out of reach is a 503 the client can retry.
    maskedErrors: { isDev: false, maskError: maskUnlessUnavailable },
    // bodyLimit.ts (and uploads.ts, for multipart) hold bodies to MAX_REQUEST_BYTES with its own
    // code. yoga's own limit (25 MB by default, below ours) would cap it, and re-pipes every body
    // through a TransformStream that takes chunks as fast as the socket gives them: an upload read
    // slowly would pile up in memory.
    maxRequestBodySize: false,
    plugins: [
      // First: the operation's span is active while every later plugin and resolver runs.
      useOperationSpans(),
      useRequestBodyLimit(options.maxRequestBytes),
      // A request must carry a header a plain cross-site form cannot set (yoga's CSRF rule).
      useCSRFPrevention({ requestHeaders: ["x-graphql-csrf", "graphql-client-name", "apollo-require-preflight"] }),
      apiKeys.plugin,
      // After the key check: nothing of an upload is read for a caller without a valid key.
      useStreamingUploads({ maxRequestBytes: options.maxRequestBytes }),
      ...limitPlugins(options.limits, options.clientLog),
      useErrorPolicy({ hideSuggestions: options.hideSuggestions }),
      useStreamGuard(options.sessions, options.maxConnectionsPerKey),
      useGraphQLSse({
        apiKeys,
        sessions: options.sessions,
        maxConnectionsPerKey: options.maxConnectionsPerKey,
        reservationTimeoutMs: options.streamReservationTimeoutMs,
      }),
      useSharedEventExecution(),
      // After the stream guard, which may turn a stream into one error result.
      ...graphqlMetricsPlugins(options.metrics),
    ],
    graphiql: !options.graphiql
      ? false
      : // Subscriptions over SSE: the same fetch as queries, so the Headers tab's key goes with them
        // (GraphiQL's WebSocket would open with an empty connection_init). POST, as a JSON body
        // passes the CSRF rule where a GET subscription would need one of its headers.
        { title: "batchwire", subscriptionsProtocol: "SSE", method: "POST", defaultQuery: GRAPHIQL_EXAMPLE },
    renderGraphiQL,
    landingPage: false,
    logging: {
      debug: (...args) => log.debug({ yoga: args }, "yoga"),
      info: (...args) => log.info({ yoga: args }, "yoga"),
      warn: (...args) => log.warn({ yoga: args }, "yoga"),
      // As `err`, so that a database outage is recognised (and told once) by the logger.
      error: (...args) => log.error(args[0] instanceof Error ? { err: args[0] } : { yoga: args }, "yoga"),
    },
  });
}
