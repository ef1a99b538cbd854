// server.ts: the real batchwire on a free port, and the HTTP client tests talk to it with.
import { createBatchwire, type Batchwire } from "../../src/app.ts";
import type { Config } from "../../src/config.ts";
import type { Logger } from "../../src/logger.ts";
import type { AnyTaskKind } from "../../src/worker/kind.ts";

export interface TestServer {
  app: Batchwire;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startServer(databaseUrl: string, config: Partial<Config> = {}, kinds: AnyTaskKind[] = [], logger?: Logger): Promise<TestServer> {
  const app = createBatchwire({
    logger,
    config: {
      databaseUrl,
      port: 0,
      host: "127.0.0.1",
      logLevel: (process.env.TEST_LOG_LEVEL as Config["logLevel"] | undefined) ?? "silent",
      shutdownTimeoutMs: 5_000,
      pollIntervalSeconds: 0.5,
      dbPoolMax: 5,
      ...config,
    },
    kinds,
  });
  await app.start();
  let stopped = false;
  return {
    app,
    url: `http://127.0.0.1:${app.port}/graphql`,
    wsUrl: `ws://127.0.0.1:${app.port}/graphql`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await app.stop();
    },
  };
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export async function gql<T = Record<string, unknown>>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
  return { status: response.status, ...body };
}

/** Like gql, but fails the test on any GraphQL error. */
export async function gqlOk<T = Record<string, unknown>>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await gql<T>(url, query, variables);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
