// limits.ts: the envelop plugins that bound every operation, HTTP and WebSocket alike (ws.ts runs
// operations through yoga.getEnveloped()): graphql-armor's depth, alias, token and directive
// limits, the cost limit (operationCost.ts), the nesting of the query text (queryNesting.ts) and no
// introspection where configured.
import type { Plugin } from "@envelop/core";
import { useDisableIntrospection } from "@envelop/disable-introspection";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { GraphQLError, ValidationContext } from "graphql";
import type { ClientLog } from "../clientLog.ts";
import { useOperationCost } from "./operationCost.ts";
import { useQueryNesting } from "./queryNesting.ts";

export interface OperationLimits {
  maxQueryDepth: number;
  maxQueryAliases: number;
  maxQueryTokens: number;
  maxQueryDirectives: number;
  maxQueryCost: number;
  /** Answer __schema / __type; off: graphql-js's NoSchemaIntrospectionCustomRule refuses them. */
  introspection: boolean;
}

export function limitPlugins(limits: OperationLimits, clientLog: ClientLog): Plugin[] {
  const logReject = (_: unknown, error: GraphQLError) => clientLog("debug", { reason: error.message }, "operation refused by a limit");
  // The validation-rule limits report their error as a validation error (HTTP 400, like any
  // invalid operation) instead of throwing it out of validate().
  const report = (context: ValidationContext | null, error: GraphQLError) => context?.reportError(error);
  const common = { exposeLimits: true, propagateOnRejection: false, onReject: [logReject, report] };
  const plugins: Plugin[] = [
    // Tokens are counted while parsing: the limit stops the parser itself.
    maxTokensPlugin({ exposeLimits: true, propagateOnRejection: true, onReject: [logReject], n: limits.maxQueryTokens }),
    useQueryNesting(limits.maxQueryTokens),
    maxDepthPlugin({ ...common, n: limits.maxQueryDepth, ignoreIntrospection: true }),
    // __typename aliases count too: graphql-armor lets them through by default, and each one is a
    // value in every item of every page.
    maxAliasesPlugin({ ...common, n: limits.maxQueryAliases, allowList: [] }),
    maxDirectivesPlugin({ ...common, n: limits.maxQueryDirectives }),
    useOperationCost(limits.maxQueryCost),
  ];
  if (!limits.introspection) plugins.push(useDisableIntrospection());
  return plugins;
}
