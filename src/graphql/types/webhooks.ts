// webhooks.ts: the WebhookEndpoint type, the webhookEndpoints query and the endpoint mutations.
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from "@pothos/plugin-relay";
import { clientError, ErrorCode } from "../../errors.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookEndpointSecret,
  updateWebhookEndpoint,
  type EndpointWithSecret,
} from "../../webhooks/endpoints.ts";
import { WebhookEventType } from "../../webhooks/events.ts";
import { countEndpoints, endpointSeq, listEndpoints, type EndpointRow } from "../../webhooks/sql/endpoints.ts";
import { builder } from "../builder.ts";
import { pageCost } from "../cost.ts";
import { checkPageArgs } from "../cursors.ts";

export const WebhookEventTypeEnum = builder.enumType("WebhookEventType", {
  description: "What a webhook is sent for; the delivery's body says it as `type` (batch.completed, …).",
  values: Object.fromEntries(Object.entries(WebhookEventType).map(([name, value]) => [name, { value }])) as {
    [K in keyof typeof WebhookEventType]: { value: (typeof WebhookEventType)[K] };
  },
});

export const WebhookEndpointRef = builder.objectRef<EndpointRow>("WebhookEndpoint").implement({
  description: "A URL of the tenant's that batch events are POSTed to, signed per Standard Webhooks.",
  fields: (t) => ({
    id: t.exposeID("id"),
    url: t.exposeString("url"),
    events: t.field({ type: [WebhookEventTypeEnum], resolve: (endpoint) => endpoint.events }),
    description: t.exposeString("description", { nullable: true }),
    enabled: t.exposeBoolean("enabled", { description: "A disabled endpoint gets no new deliveries, and its pending ones fail." }),
    disabledReason: t.exposeString("disabled_reason", {
      nullable: true,
      description: "Why batchwire disabled the endpoint (every attempt failed for 3 days); null when it did not.",
    }),
    previousSecretExpiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "After a rotation, until when the previous secret still signs beside the new one.",
      resolve: (endpoint) => endpoint.previous_secret_expires_at,
    }),
    createdAt: t.field({ type: "DateTime", resolve: (endpoint) => endpoint.created_at }),
    updatedAt: t.field({ type: "DateTime", resolve: (endpoint) => endpoint.updated_at }),
  }),
});

const ENDPOINT_PAGE = { defaultSize: 20, maxSize: 100 };

/** A cursor is an endpoint's id: it names nothing the caller cannot already see. */
export async function cursorSeq(cursor: string | undefined, name: string, find: (id: string) => Promise<number | undefined>): Promise<number | null> {
  if (cursor === undefined) return null;
  const seq = await find(cursor);
  if (seq === undefined) throw clientError(ErrorCode.BAD_USER_INPUT, `${name} is not a cursor this API returned`);
  return seq;
}

builder.queryField("webhookEndpoints", (t) =>
  t.connection(
    {
      type: WebhookEndpointRef,
      description: "The caller's webhook endpoints, newest first.",
      extensions: pageCost(ENDPOINT_PAGE),
      resolve: async (_, args, { services, tenant }) => {
        checkPageArgs(args);
        const { pool } = services.webhooks;
        const connection = await resolveCursorConnection(
          { args, ...ENDPOINT_PAGE, toCursor: (endpoint) => endpoint.id },
          async ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
            listEndpoints(pool, {
              owner: tenant,
              beforeSeq: await cursorSeq(after, "after", (id) => endpointSeq(pool, tenant, id)),
              afterSeq: await cursorSeq(before, "before", (id) => endpointSeq(pool, tenant, id)),
              limit,
              ascending: inverted,
            }),
        );
        return { ...connection, totalCount: () => countEndpoints(pool, tenant) };
      },
    },
    { name: "WebhookEndpointConnection" },
    { name: "WebhookEndpointEdge" },
  ),
);

const CreateWebhookEndpointInput = builder.inputType("CreateWebhookEndpointInput", {
  fields: (t) => ({
    url: t.string({ required: true, description: "https (http too outside production); an IP literal must be a public address." }),
    events: t.field({ type: [WebhookEventTypeEnum], required: false, description: "Default: all of them." }),
    description: t.string({ required: false }),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType("UpdateWebhookEndpointInput", {
  description: "Fields left out stay as they are.",
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string({ required: false }),
    events: t.field({ type: [WebhookEventTypeEnum], required: false }),
    enabled: t.boolean({ required: false, description: "true also clears disabledReason." }),
    description: t.string({ required: false }),
  }),
});

const secretField = "The signing secret (`whsec_…`), shown only here: keep it; only a sealed form is stored.";

const CreateWebhookEndpointPayload = builder.objectRef<EndpointWithSecret>("CreateWebhookEndpointPayload").implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (payload) => payload.endpoint }),
    secret: t.exposeString("secret", { description: secretField }),
  }),
});

const RotateWebhookEndpointSecretPayload = builder.objectRef<EndpointWithSecret>("RotateWebhookEndpointSecretPayload").implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (payload) => payload.endpoint }),
    secret: t.exposeString("secret", { description: secretField }),
  }),
});

const UpdateWebhookEndpointPayload = builder.objectRef<{ endpoint: EndpointRow }>("UpdateWebhookEndpointPayload").implement({
  fields: (t) => ({ endpoint: t.field({ type: WebhookEndpointRef, resolve: (payload) => payload.endpoint }) }),
});

const DeleteWebhookEndpointPayload = builder.objectRef<{ id: string }>("DeleteWebhookEndpointPayload").implement({
  fields: (t) => ({ deletedEndpointId: t.exposeID("id", { description: "The endpoint that was deleted, with its deliveries." }) }),
});

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreateWebhookEndpointPayload,
    description: "Adds an endpoint; batch events of the caller's batches are POSTed to it from now on.",
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: (_, { input }, { services, tenant }) => createWebhookEndpoint(services.webhooks, tenant, input),
  }),
  updateWebhookEndpoint: t.field({
    type: UpdateWebhookEndpointPayload,
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    resolve: async (_, { input }, { services, tenant }) => ({
      endpoint: await updateWebhookEndpoint(services.webhooks, tenant, { ...input, id: String(input.id) }),
    }),
  }),
  deleteWebhookEndpoint: t.field({
    type: DeleteWebhookEndpointPayload,
    description: "Deletes the endpoint and its deliveries; attempts in flight may still arrive.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, { services, tenant }) => {
      await deleteWebhookEndpoint(services.webhooks, tenant, String(id));
      return { id: String(id) };
    },
  }),
  rotateWebhookEndpointSecret: t.field({
    type: RotateWebhookEndpointSecretPayload,
    description: "A new secret signs from now on; the previous one keeps signing beside it for 24 hours.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, { services, tenant }) => rotateWebhookEndpointSecret(services.webhooks, tenant, String(id)),
  }),
}));
