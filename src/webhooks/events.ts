// events.ts: the webhook event types, written once: their wire names and the final batch status each follows.
import type { BatchStatus } from "../batches/rows.ts";

/** `type` in a delivery's body, and what webhook_event.type and webhook_endpoint.events store. */
export const WebhookEventType = {
  BATCH_COMPLETED: "batch.completed",
  BATCH_EXPIRED: "batch.expired",
  BATCH_CANCELED: "batch.canceled",
} as const;
export type WebhookEventType = (typeof WebhookEventType)[keyof typeof WebhookEventType];

export const ALL_EVENT_TYPES: readonly WebhookEventType[] = Object.values(WebhookEventType);

/** The event a batch's final status raises. */
export const EVENT_OF_FINAL_STATUS: Readonly<Partial<Record<BatchStatus, WebhookEventType>>> = {
  COMPLETED: WebhookEventType.BATCH_COMPLETED,
  EXPIRED: WebhookEventType.BATCH_EXPIRED,
  CANCELED: WebhookEventType.BATCH_CANCELED,
};
