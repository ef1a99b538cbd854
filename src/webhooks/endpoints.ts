// endpoints.ts: managing a tenant's webhook endpoints: input checks, secrets made and sealed,
// and the client-facing errors; the SQL is in sql/endpoints.ts.
import { randomUUID } from "node:crypto";
import { clientError, ErrorCode, notFound } from "../errors.ts";
import { checkEndpointUrl } from "./endpointUrl.ts";
import { ALL_EVENT_TYPES, type WebhookEventType } from "./events.ts";
import { generateSecret, SecretKeyError, type SecretBox } from "./secrets.ts";
import type { WebhookServices } from "./services.ts";
import {
  countEndpoints,
  deleteEndpoint,
  insertEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
  type EndpointChange,
  type EndpointRow,
} from "./sql/endpoints.ts";

/** Each delivery round fans out to every endpoint of a tenant: keep that bounded. */
export const MAX_ENDPOINTS_PER_TENANT = 50;
const MAX_DESCRIPTION_LENGTH = 500;

export interface CreateEndpointInput {
  url: string;
  events?: readonly WebhookEventType[] | null;
  description?: string | null;
}

export interface UpdateEndpointInput {
  id: string;
  url?: string | null;
  events?: readonly WebhookEventType[] | null;
  enabled?: boolean | null;
  description?: string | null;
}

export interface EndpointWithSecret {
  endpoint: EndpointRow;
  /** Shown once: only its sealed form is stored. */
  secret: string;
}

function checkedUrl(deps: WebhookServices, url: string): string {
  const checked = checkEndpointUrl(url, deps.policy);
  if ("problem" in checked) throw clientError(ErrorCode.BAD_USER_INPUT, checked.problem);
  return checked.url.href;
}

function checkedEvents(events: readonly WebhookEventType[]): WebhookEventType[] {
  if (events.length === 0) throw clientError(ErrorCode.BAD_USER_INPUT, "events needs at least one event type (or leave it out for all of them)");
  return ALL_EVENT_TYPES.filter((type) => events.includes(type));
}

function checkedDescription(description: string | null | undefined): string | null {
  if (description != null && description.length > MAX_DESCRIPTION_LENGTH) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `description is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return description ?? null;
}

async function secretBox(deps: WebhookServices): Promise<SecretBox> {
  try {
    return await deps.secrets();
  } catch (error) {
    if (error instanceof SecretKeyError) throw clientError(ErrorCode.WEBHOOKS_NOT_CONFIGURED, `webhooks are not available: ${error.message}`);
    throw error;
  }
}

export async function createWebhookEndpoint(deps: WebhookServices, owner: string, input: CreateEndpointInput): Promise<EndpointWithSecret> {
  const url = checkedUrl(deps, input.url);
  const events = input.events == null ? [...ALL_EVENT_TYPES] : checkedEvents(input.events);
  const description = checkedDescription(input.description);
  if ((await countEndpoints(deps.pool, owner)) >= MAX_ENDPOINTS_PER_TENANT) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `a tenant has at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`);
  }
  const box = await secretBox(deps);
  const id = randomUUID();
  const secret = generateSecret();
  const endpoint = await insertEndpoint(deps.pool, { id, owner, url, events, description, sealedSecret: box.seal(secret, id) });
  return { endpoint, secret };
}

export async function updateWebhookEndpoint(deps: WebhookServices, owner: string, input: UpdateEndpointInput): Promise<EndpointRow> {
  const change: EndpointChange = {};
  if (input.url != null) change.url = checkedUrl(deps, input.url);
  if (input.events != null) change.events = checkedEvents(input.events);
  if (input.description !== undefined) change.description = checkedDescription(input.description);
  if (input.enabled != null) change.enabled = input.enabled;
  const endpoint = await updateEndpoint(deps.pool, owner, input.id, change);
  if (!endpoint) throw notFound("webhook endpoint", input.id);
  return endpoint;
}

export async function deleteWebhookEndpoint(deps: WebhookServices, owner: string, id: string): Promise<void> {
  if (!(await deleteEndpoint(deps.pool, owner, id))) throw notFound("webhook endpoint", id);
}

export async function rotateWebhookEndpointSecret(deps: WebhookServices, owner: string, id: string): Promise<EndpointWithSecret> {
  const box = await secretBox(deps);
  const secret = generateSecret();
  const endpoint = await rotateEndpointSecret(deps.pool, owner, id, box.seal(secret, id));
  if (!endpoint) throw notFound("webhook endpoint", id);
  return { endpoint, secret };
}
