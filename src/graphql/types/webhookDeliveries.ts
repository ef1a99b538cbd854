// webhookDeliveries.ts: the WebhookDelivery type, the webhookDeliveries query and redeliverWebhook.
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from "@pothos/plugin-relay";
import { notFound } from "../../errors.ts";
import { webhookId } from "../../webhooks/deliver.ts";
import { redeliverWebhook } from "../../webhooks/redeliver.ts";
import { countDeliveries, deliverySeq, DeliveryStatus, listDeliveries, type DeliveryRow } from "../../webhooks/sql/deliveries.ts";
import { getEndpoint } from "../../webhooks/sql/endpoints.ts";
import { builder } from "../builder.ts";
import { pageCost } from "../cost.ts";
import { checkPageArgs } from "../cursors.ts";
import { cursorSeq, WebhookEventTypeEnum } from "./webhooks.ts";

const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  description: "PENDING: not yet delivered, attempts remain. SUCCEEDED: a 2xx came. FAILED: the attempts ran out (or the endpoint was disabled).",
  values: Object.values(DeliveryStatus),
});

const WebhookDeliveryRef = builder.objectRef<DeliveryRow>("WebhookDelivery").implement({
  description: "One event sent to one endpoint, with its attempts so far.",
  fields: (t) => ({
    id: t.exposeID("id"),
    endpointId: t.exposeID("endpoint_id"),
    webhookId: t.string({ description: "The webhook-id header: the same on every attempt of this event.", resolve: (d) => webhookId(d.event_id) }),
    eventType: t.field({ type: WebhookEventTypeEnum, resolve: (d) => d.event_type }),
    batchId: t.exposeID("batch_id"),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt("attempts", { description: "Attempts sent so far." }),
    lastAttemptAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => d.last_attempt_at }),
    lastResponseStatus: t.exposeInt("last_response_status", { nullable: true, description: "HTTP status of the last response, if one came." }),
    lastResponseBody: t.exposeString("last_response_body", { nullable: true, description: "Its first 1 KiB; nothing more is read or kept." }),
    lastError: t.exposeString("last_error", { nullable: true, description: "Why the last attempt failed (or was refused); null after a success." }),
    nextAttemptAt: t.field({ type: "DateTime", nullable: true, description: "When the next attempt is due, while PENDING.", resolve: (d) => d.next_attempt_at }),
    createdAt: t.field({ type: "DateTime", resolve: (d) => d.created_at }),
  }),
});

const DELIVERY_PAGE = { defaultSize: 20, maxSize: 100 };

builder.queryField("webhookDeliveries", (t) =>
  t.connection(
    {
      type: WebhookDeliveryRef,
      description: "An endpoint's deliveries, newest first.",
      args: {
        endpointId: t.arg.id({ required: true }),
        status: t.arg({ type: WebhookDeliveryStatusEnum, required: false }),
      },
      extensions: pageCost(DELIVERY_PAGE),
      resolve: async (_, args, { services, tenant }) => {
        checkPageArgs(args);
        const { pool } = services.webhooks;
        const endpoint = await getEndpoint(pool, tenant, String(args.endpointId));
        if (!endpoint) throw notFound("webhook endpoint", String(args.endpointId));
        const status = args.status ?? null;
        const connection = await resolveCursorConnection(
          { args, ...DELIVERY_PAGE, toCursor: (delivery) => delivery.id },
          async ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
            listDeliveries(pool, {
              endpointId: endpoint.id,
              status,
              beforeSeq: await cursorSeq(after, "after", (id) => deliverySeq(pool, endpoint.id, id)),
              afterSeq: await cursorSeq(before, "before", (id) => deliverySeq(pool, endpoint.id, id)),
              limit,
              ascending: inverted,
            }),
        );
        return { ...connection, totalCount: () => countDeliveries(pool, endpoint.id, status) };
      },
    },
    { name: "WebhookDeliveryConnection" },
    { name: "WebhookDeliveryEdge" },
  ),
);

const RedeliverWebhookPayload = builder.objectRef<{ delivery: DeliveryRow }>("RedeliverWebhookPayload").implement({
  fields: (t) => ({ delivery: t.field({ type: WebhookDeliveryRef, resolve: (payload) => payload.delivery }) }),
});

builder.mutationField("redeliverWebhook", (t) =>
  t.field({
    type: RedeliverWebhookPayload,
    description: "Queues the delivery again, to be attempted now with a fresh retry schedule (same webhook-id).",
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: async (_, { deliveryId }, { services, tenant }) => ({
      delivery: await redeliverWebhook(services.webhooks, tenant, String(deliveryId)),
    }),
  }),
);
