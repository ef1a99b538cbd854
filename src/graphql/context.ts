// context.ts: what every resolver receives; built per request (HTTP) or per operation (WebSocket).
import type { PgBoss } from "pg-boss";
import type { Pool } from "../db/pool.ts";
import type { JobStatistics } from "../db/statistics.ts";
import type { KindRegistry } from "../worker/registry.ts";
import type { ProgressFeeds } from "../events/progressStream.ts";
import type { TenantFeeds } from "../events/tenantFeed.ts";
import type { Principal } from "../auth/authenticator.ts";
import type { WebhookServices } from "../webhooks/services.ts";
import type { Metrics } from "../observability/metrics.ts";

/** The long-lived services resolvers use; one per process. */
export interface Services {
  pool: Pool;
  boss: PgBoss;
  kinds: KindRegistry;
  /** Keeps the planner's view of pg-boss's job table fresh after large submits. */
  statistics: JobStatistics;
  /** jobProgress streams, fed by the process's event hub. */
  progress: ProgressFeeds;
  /** batchUpdates streams, fed by the same hub. */
  batchUpdates: TenantFeeds;
  maxTasksPerBatch: number;
  /** Largest JSON of one task's input, and of one batch's metadata, in bytes. */
  maxTaskInputBytes: number;
  maxMetadataBytes: number;
  /** Task inputs and results one execution's response carries at most, in bytes (MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  completionWindowSeconds: number;
  retentionSeconds: number;
  webhooks: WebhookServices;
  metrics: Metrics;
}

export interface Context {
  services: Services;
  /** The tenant every read and write is scoped to: the caller's key's tenant. */
  tenant: string;
  /** Who is calling: the tenant and the API key (null in the open development mode). */
  principal: Principal;
}
