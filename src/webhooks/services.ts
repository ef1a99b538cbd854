// services.ts: what the webhook mutations and queries need from the process, one object per process.
import type { PgBoss } from "pg-boss";
import type { Pool } from "../db/pool.ts";
import type { TargetPolicy } from "./endpointUrl.ts";
import type { SecretBox } from "./secrets.ts";

export interface WebhookServices {
  pool: Pool;
  boss: PgBoss;
  /** Seals and opens endpoint secrets; rejects when no key is configured (production without WEBHOOK_SECRET_KEY). */
  secrets: () => Promise<SecretBox>;
  policy: TargetPolicy;
  retryBaseSeconds: number;
}
