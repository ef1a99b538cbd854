// queryNesting.ts: a bound on how deeply brackets nest in a query's text, checked before the
// parser runs. graphql-js parses recursively: a list literal nested ~2,400 levels deep (within
// the token limit) overflows its stack, which clients would see as a server error.
import type { Plugin } from "@envelop/core";
import { GraphQLError, Lexer, Source, TokenKind } from "graphql";

/**
 * Selections (MAX_QUERY_DEPTH), arguments and input literals (JSON up to 64 levels, as task
 * inputs may be) fit well within it.
 */
export const MAX_QUERY_NESTING = 128;

const OPENING = new Set<string>([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSING = new Set<string>([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

/** Throws a syntax error when brackets nest deeper than `max`; stops after `maxTokens` tokens (the parser refuses more). */
export function checkNesting(source: string | Source, max: number, maxTokens: number): void {
  const lexer = new Lexer(typeof source === "string" ? new Source(source) : source);
  let depth = 0;
  try {
    for (let token = lexer.advance(), count = 1; token.kind !== TokenKind.EOF && count <= maxTokens; token = lexer.advance(), count++) {
      if (OPENING.has(token.kind)) {
        if (++depth > max) throw new GraphQLError(`Syntax Error: brackets nest deeper than ${max} levels.`, { source: lexer.source, positions: [token.start] });
      } else if (CLOSING.has(token.kind)) {
        depth--;
      }
    }
  } catch (error) {
    // A lexical error is the parser's to report, with its own message.
    if (error instanceof GraphQLError && error.message.startsWith("Syntax Error: brackets")) throw error;
  }
}

export function useQueryNesting(maxTokens: number): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        checkNesting(source, MAX_QUERY_NESTING, maxTokens);
        return parseFn(source, options);
      });
    },
  };
}
