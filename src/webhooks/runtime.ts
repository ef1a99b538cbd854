// runtime.ts: what a process starts for webhooks. Every process: the queue and the sealing key's
// source. Worker processes: the outbox dispatcher and the delivery worker.
import type { PgBoss } from "pg-boss";
import type { Config } from "../config.ts";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { startDeliveryWorker, type AttemptOutcome } from "./deliver.ts";
import { startDispatcher, type Dispatcher } from "./dispatcher.ts";
import { ensureWebhookQueue } from "./queue.ts";
import { loadSealingKey, type SecretBox } from "./secrets.ts";
import type { WebhookServices } from "./services.ts";

export interface Webhooks {
  services: WebhookServices;
  /** Starts the dispatcher and the delivery worker (worker role). */
  startDelivery(options?: { onOutcome?: (outcome: AttemptOutcome) => void }): Promise<void>;
  stop(): Promise<void>;
}

export async function setUpWebhooks(deps: { pool: Pool; boss: PgBoss; log: Logger; config: Config }): Promise<Webhooks> {
  const { pool, boss, config } = deps;
  const log = deps.log.child({ component: "webhooks" });
  await ensureWebhookQueue(boss, config.webhookRetryBaseSeconds);
  // Read when first needed: a process that never meets a webhook never makes a key file.
  let box: Promise<SecretBox> | undefined;
  const secrets = () => {
    box ??= loadSealingKey({ key: config.webhookSecretKey, production: config.production, dataDir: config.dataDir });
    box.catch(() => (box = undefined));
    return box;
  };
  if (config.production && !config.webhookSecretKey) log.warn("WEBHOOK_SECRET_KEY is not set: webhook endpoints cannot be created or signed for");
  const policy = { production: config.production, allowPrivateNetworks: config.webhookAllowPrivateNetworks };
  const services: WebhookServices = { pool, boss, secrets, policy, retryBaseSeconds: config.webhookRetryBaseSeconds };
  let dispatcher: Dispatcher | undefined;
  return {
    services,
    startDelivery: async (options = {}) => {
      dispatcher = startDispatcher({ pool, boss, log, intervalMs: config.pollIntervalSeconds * 1000, retryBaseSeconds: config.webhookRetryBaseSeconds });
      await startDeliveryWorker({
        pool,
        boss,
        log,
        secrets,
        send: { policy },
        publicBaseUrl: config.publicBaseUrl,
        pollIntervalSeconds: config.pollIntervalSeconds,
        onOutcome: options.onOutcome,
      });
    },
    stop: async () => {
      await dispatcher?.stop();
    },
  };
}
