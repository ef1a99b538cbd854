// graphql.ts: GraphQL over HTTP POST as a careful client does it under faults: a request that
// fails for a transient reason (no connection, HTTP 5xx, an unexpected server error) is sent
// again until a deadline; an error the client caused is thrown at once.
import { setTimeout as sleep } from "node:timers/promises";

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

/** Error codes that sending the same request again cannot fix: a bug in the chaos run itself. */
const PERMANENT_CODES = new Set([
  "BAD_USER_INPUT",
  "BATCH_TOO_LARGE",
  "IDEMPOTENCY_CONFLICT",
  "NOT_FOUND",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "PAYLOAD_TOO_LARGE",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
]);

export class PermanentGraphQLError extends Error {
  override name = "PermanentGraphQLError";
}

export class GraphQLHttp {
  readonly url: string;
  /** Requests sent again after a transient failure. */
  retries = 0;

  constructor(url: string) {
    this.url = url;
  }

  /** The operation's data; retries transient failures until `deadline` (epoch ms). */
  async request<T>(query: string, variables: Record<string, unknown>, deadline: number): Promise<T> {
    let last = "";
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (Date.now() >= deadline) throw new Error(`gave up after ${attempt} tries: ${last}`);
        this.retries++;
        await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)));
      }
      let status = 0;
      let body: { data?: T; errors?: GraphQLError[] };
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(20_000),
        });
        status = response.status;
        body = (await response.json()) as typeof body;
      } catch (error) {
        last = `HTTP ${status || "request"} failed: ${(error as Error).message}`;
        continue;
      }
      const errors = body.errors ?? [];
      const permanent = errors.find((e) => PERMANENT_CODES.has(e.extensions?.code ?? ""));
      if (permanent) throw new PermanentGraphQLError(`${permanent.extensions?.code}: ${permanent.message}`);
      if (errors.length === 0 && body.data) return body.data;
      last = `HTTP ${status}: ${errors.map((e) => `${e.extensions?.code ?? "?"} ${e.message}`).join("; ")}`;
    }
  }
}
