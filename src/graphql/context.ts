// context.ts: what every resolver receives; built per request (HTTP) or per operation (WebSocket).
import type { PgBoss } from "pg-boss";
import type { Pool } from "../db/pool.ts";
import type { KindRegistry } from "../worker/registry.ts";
import type { EventHub } from "../events/hub.ts";

/** The long-lived services resolvers use; one per process. */
export interface Services {
  pool: Pool;
  boss: PgBoss;
  kinds: KindRegistry;
  events: EventHub;
  maxTasksPerBatch: number;
  /** Least time between two jobProgress events to one subscriber, in ms. */
  eventIntervalMs: number;
}

export interface Context {
  services: Services;
  /** The tenant every read and write is scoped to. */
  tenant: string;
}
