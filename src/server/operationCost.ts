// operationCost.ts: MAX_QUERY_COST, checked where the variables are known (before an operation
// executes, over HTTP and WebSocket alike), so a page size sent as a variable or left to its
// default counts as much as a literal one. The model is graphql/cost.ts's.
import type { Plugin } from "@envelop/core";
import { getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from "graphql";
import { getComplexity } from "graphql-query-complexity";
import { costEstimator } from "../graphql/cost.ts";

/** Distinct fields counted at most (fragments spread many times count each time). */
const MAX_COUNTED_NODES = 10_000;

function refusal(message: string): ExecutionResult {
  return { errors: [new GraphQLError(message, { extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } } })] };
}

/** The refusal for an operation over `maxCost`, or undefined to let it run. */
export function costRefusal(args: ExecutionArgs, maxCost: number): ExecutionResult | undefined {
  // An unknown operation or bad variables: execution reports them as usual.
  if (!getOperationAST(args.document, args.operationName)) return undefined;
  let cost: number;
  try {
    cost = getComplexity({
      estimators: [costEstimator],
      schema: args.schema,
      query: args.document,
      variables: args.variableValues ?? {},
      operationName: args.operationName ?? undefined,
      maxQueryNodes: MAX_COUNTED_NODES,
    });
  } catch (error) {
    if (error instanceof GraphQLError && error.message.includes("maximum allowed number of nodes")) {
      return refusal(`Query Cost limit exceeded: more than ${MAX_COUNTED_NODES} fields once fragments are expanded.`);
    }
    return undefined;
  }
  if (cost > maxCost) return refusal(`Query Cost limit of ${maxCost} exceeded, found ${cost} (MAX_QUERY_COST).`);
  return undefined;
}

export function useOperationCost(maxCost: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = costRefusal(args, maxCost);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = costRefusal(args, maxCost);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}
