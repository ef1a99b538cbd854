// errorPolicy.ts: what every error a client sees looks like, over HTTP and WebSocket alike (both
// run through these envelop hooks): it carries an `extensions.code`, and in production no
// "Did you mean …?" names a field, argument, input field or enum value the client did not send.
import type { Plugin } from "@envelop/core";
import { GraphQLError, type ExecutionResult } from "graphql";
import { isAsyncIterable } from "graphql-yoga";
import { ErrorCode } from "../errors.ts";

// graphql-js ends a message with its suggestions: `Did you mean "tasks"?`, `Did you mean the enum
// value "COMPLETED"?`, `Did you mean "a", "b", or "c"?`, `Did you mean to use an inline fragment on "X"?`
const SUGGESTION = /\s*Did you mean\b[\s\S]*$/;

export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, "");
}

/** `error` with a code (and without suggestions when `hide`); the same object when nothing changes. */
function policed(error: GraphQLError, hide: boolean, defaultCode: string): GraphQLError {
  const message = hide ? withoutSuggestions(error.message) : error.message;
  const code = error.extensions?.code;
  if (message === error.message && typeof code === "string") return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: typeof code === "string" ? code : defaultCode },
  });
}

/**
 * A request error (no path: bad variables, an unknown operation) is the client's; a field error
 * that reached here without a code was not meant for clients.
 */
function policedResult(result: ExecutionResult, hide: boolean): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((error) => policed(error, hide, error.path ? "INTERNAL_SERVER_ERROR" : ErrorCode.BAD_USER_INPUT));
  return errors.every((error, i) => error === result.errors![i]) ? result : { ...result, errors };
}

export function useErrorPolicy({ hideSuggestions }: { hideSuggestions: boolean }): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map((error) => policed(error, hideSuggestions, "GRAPHQL_VALIDATION_FAILED")));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) setResult(policedResult(result, hideSuggestions));
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) setResult(policedResult(result, hideSuggestions));
        },
      };
    },
  };
}
