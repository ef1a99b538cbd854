// unavailable.ts: GraphQL's answer while the database cannot be reached (HTTP 503,
// SERVICE_UNAVAILABLE, Retry-After) instead of a 500 "Unexpected error."; every other unexpected
// error stays masked as yoga masks it.
import { GraphQLError } from "graphql";
import { maskError, type MaskError } from "graphql-yoga";
import { isDatabaseUnavailable } from "../db/outage.ts";
import { serviceUnavailable } from "../errors.ts";

export const maskUnlessUnavailable: MaskError = (error, message, isDev) => {
  if (!isDatabaseUnavailable(error)) return maskError(error, message, isDev);
  const located = error instanceof GraphQLError ? error : undefined;
  return serviceUnavailable({ nodes: located?.nodes, source: located?.source, positions: located?.positions, path: located?.path });
};
