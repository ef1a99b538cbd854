// yoga.ts: the GraphQL server (HTTP, GraphiQL, SSE, masking, CSRF), built apart from listening.
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { Logger } from "../logger.ts";
import type { Context, Services } from "../graphql/context.ts";
import { schema } from "../graphql/schema.ts";
import { GRAPHIQL_EXAMPLE } from "./graphiqlExample.ts";

export interface YogaOptions {
  services: Services;
  log: Logger;
  production: boolean;
}

export type BatchwireYoga = YogaServerInstance<Record<string, unknown>, Context>;

/** The tenant of requests until API keys exist: one open tenant. */
export const DEFAULT_TENANT = "default";

export function createBatchwireYoga({ services, log, production }: YogaOptions): BatchwireYoga {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    context: () => ({ services, tenant: DEFAULT_TENANT }),
    // Unexpected errors reach clients as "Unexpected error."; GraphQLErrors keep their codes.
    maskedErrors: { isDev: !production },
    plugins: [
      // A request must carry a header a plain cross-site form cannot set (yoga's CSRF rule).
      useCSRFPrevention({ requestHeaders: ["x-graphql-csrf", "graphql-client-name", "apollo-require-preflight"] }),
    ],
    graphiql: production
      ? false
      : { title: "batchwire", subscriptionsProtocol: "WS", defaultQuery: GRAPHIQL_EXAMPLE },
    renderGraphiQL,
    landingPage: false,
    logging: {
      debug: (...args) => log.debug({ yoga: args }, "yoga"),
      info: (...args) => log.info({ yoga: args }, "yoga"),
      warn: (...args) => log.warn({ yoga: args }, "yoga"),
      error: (...args) => log.error({ yoga: args }, "yoga"),
    },
  });
}
