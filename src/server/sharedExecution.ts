// sharedExecution.ts: a subscription event that many subscribers receive as the same object (the
// progress feeds hand one event to every subscriber of a batch in step) is executed once per
// operation, not once per subscriber. Without it, 1,000 subscribers of one batch cost 1,000
// executions of the same selection over the same data for every event.
import { createSourceEventStream, execute, getOperationAST, getVariableValues, GraphQLError, print, type ExecutionArgs, type ExecutionResult } from "graphql";
import { isAsyncIterable, mapAsyncIterator, type Plugin, type PromiseOrValue } from "graphql-yoga";
import type { Context } from "../graphql/context.ts";

export function useSharedEventExecution(): Plugin<Context> {
  /** Results by event object, then by operation (document, operation name, variables, tenant). */
  const results = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();

  const subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    // Bad variables are the client's error, as yoga's own executor reports them.
    const operation = getOperationAST(args.document, args.operationName);
    if (operation) {
      const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {}, { maxErrors: 50 });
      if (coerced.errors) {
        return { errors: coerced.errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: "BAD_USER_INPUT" } })) };
      }
    }
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const context = args.contextValue as Context;
    const text = args.document.loc?.source.body ?? print(args.document);
    const key = JSON.stringify([text, args.operationName ?? null, args.variableValues ?? null, context.tenant]);
    return mapAsyncIterator(source, (event) => {
      if (typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
      let byOperation = results.get(event);
      if (!byOperation) results.set(event, (byOperation = new Map()));
      let result = byOperation.get(key);
      if (!result) {
        result = execute({ ...args, rootValue: event });
        byOperation.set(key, result);
      }
      return result;
    });
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as never);
    },
  };
}
