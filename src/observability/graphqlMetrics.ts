// graphqlMetrics.ts: the yoga plugins that feed the GraphQL metrics: operation counts, durations
// and errors through @graphql-yoga/plugin-prometheus, and the open subscriptions and the events
// sent to them. Both see HTTP, SSE, graphql-sse and WebSocket operations (all go through yoga's
// envelop).
import { usePrometheus } from "@graphql-yoga/plugin-prometheus";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../graphql/context.ts";
import { SSE_ENDPOINT } from "../server/graphqlSse.ts";
import type { Metrics, SubscriptionTransport } from "./metrics.ts";

/**
 * ws.ts builds its operations' context without a Fetch request; graphql-sse's (graphqlSse.ts)
 * carry their request to its endpoint; the rest are yoga's own streams over HTTP (SSE).
 */
function transportOf(request: Request | undefined): SubscriptionTransport {
  if (!request) return "ws";
  return new URL(request.url).pathname === SSE_ENDPOINT ? "graphql-sse" : "sse";
}

/** Counts each subscription open until its stream ends, and each event it sends. */
function useSubscriptionMetrics(metrics: Metrics): Plugin<Context & { request?: Request }> {
  return {
    onSubscribe({ args }) {
      const transport = transportOf(args.contextValue.request);
      return {
        onSubscribeResult({ result }) {
          // An error result (bad variables, too many streams) is one response, not a subscription.
          if (!(Symbol.asyncIterator in Object(result))) return;
          const closed = metrics.subscriptionOpened(transport);
          return {
            onNext: () => metrics.eventSent(),
            // Runs when the stream completes and when the client goes away (return()).
            onEnd: closed,
          };
        },
      };
    },
  };
}

export function graphqlMetricsPlugins(metrics: Metrics): Plugin<Context>[] {
  return [
    usePrometheus({
      registry: metrics.registry,
      // http.ts serves /metrics on every role, with its token rule.
      endpoint: false,
      metrics: {
        graphql_envelop_request: metrics.graphql.operations,
        graphql_envelop_request_duration: metrics.graphql.duration,
        graphql_envelop_error_result: metrics.graphql.errors,
        graphql_envelop_deprecated_field: false,
        graphql_envelop_request_time_summary: false,
        graphql_envelop_phase_parse: false,
        graphql_envelop_phase_validate: false,
        graphql_envelop_phase_context: false,
        graphql_envelop_phase_execute: false,
        graphql_envelop_phase_subscribe: false,
        graphql_envelop_schema_change: false,
        graphql_envelop_execute_resolver: false,
        graphql_yoga_http_duration: false,
      },
    }) as Plugin<Context>,
    useSubscriptionMetrics(metrics) as Plugin<Context>,
  ];
}
