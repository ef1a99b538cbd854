// batchwire.ts: the real batchwire the scenarios measure, in this process, on a port of its own.
import { createBatchwire, type Batchwire } from "../src/index.ts";
import type { Config } from "../src/config.ts";
import type { AnyTaskKind } from "../src/worker/kind.ts";

export interface BenchServer {
  app: Batchwire;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startBatchwire(databaseUrl: string, kinds: AnyTaskKind[] = [], config: Partial<Config> = {}): Promise<BenchServer> {
  const app = createBatchwire({
    config: { databaseUrl, port: 0, host: "127.0.0.1", logLevel: "silent", shutdownTimeoutMs: 10_000, ...config },
    kinds,
  });
  await app.start();
  return {
    app,
    url: `http://127.0.0.1:${app.port}/graphql`,
    wsUrl: `ws://127.0.0.1:${app.port}/graphql`,
    stop: () => app.stop(),
  };
}
