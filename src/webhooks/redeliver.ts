// redeliver.ts: redeliverWebhook. The delivery gets a new job that attempts it now, with a full
// retry schedule of its own; its previous job, if still waiting, is cancelled. Same event, same
// webhook-id: a receiver that kept the first one can tell this is a repeat.
import { randomUUID } from "node:crypto";
import { bossDb, withTransaction } from "../db/pool.ts";
import { clientError, ErrorCode, notFound } from "../errors.ts";
import { deliveryJob, WEBHOOK_QUEUE } from "./queue.ts";
import type { WebhookServices } from "./services.ts";
import { getDelivery, reassignDelivery, type DeliveryRow } from "./sql/deliveries.ts";
import { getEndpoint } from "./sql/endpoints.ts";

export async function redeliverWebhook(deps: WebhookServices, owner: string, deliveryId: string): Promise<DeliveryRow> {
  const delivery = await getDelivery(deps.pool, owner, deliveryId);
  if (!delivery) throw notFound("webhook delivery", deliveryId);
  const endpoint = await getEndpoint(deps.pool, owner, delivery.endpoint_id);
  if (!endpoint?.enabled) throw clientError(ErrorCode.BAD_USER_INPUT, "the delivery's endpoint is disabled: enable it first (updateWebhookEndpoint)");
  await withTransaction(deps.pool, async (client) => {
    const jobId = randomUUID();
    const previous = await reassignDelivery(client, delivery.id, jobId);
    const db = bossDb(client);
    // An attempt already running finishes; its outcome is not written, this job's is.
    await deps.boss.cancel(WEBHOOK_QUEUE, previous, { db });
    await deps.boss.insert(WEBHOOK_QUEUE, [deliveryJob(delivery.id, jobId, deps.retryBaseSeconds)], { db });
  });
  return (await getDelivery(deps.pool, owner, deliveryId))!;
}
