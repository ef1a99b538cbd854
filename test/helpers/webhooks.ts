// webhooks.ts: a real webhook receiver on a loopback address, and the webhook operations tests use.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { post, type TestKey } from "./auth.ts";
import { waitFor } from "./server.ts";
import type { BatchView } from "./batches.ts";
import { SUBMIT } from "./batches.ts";

/** A fixed sealing key for test servers and the processes they spawn (base64 of 32 bytes). */
export const TEST_SEALING_KEY = Buffer.alloc(32, 7).toString("base64");

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Reply {
  status: number;
  body?: string;
  /** Never answer (the connection stays open until the receiver closes). */
  hang?: boolean;
}

export interface Receiver {
  port: number;
  /** http://127.0.0.1:port/hook (or the host it listens on). */
  url: string;
  requests: ReceivedRequest[];
  /** Waits until at least `n` requests came; returns them all. */
  received(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Answers each request with `reply(n)` (n counts from 1); 200 by default. */
export async function startReceiver(
  reply: (n: number, request: ReceivedRequest) => Reply = () => ({ status: 200 }),
  options: { host?: string; port?: number } = {},
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const request = { method: req.method ?? "", path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(request);
      const { status, body, hang } = reply(requests.length, request);
      if (hang) return;
      res.writeHead(status, { "content-type": "text/plain" }).end(body ?? "ok");
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/hook`,
    requests,
    received: (n, timeoutMs = 60_000) => waitFor(() => (requests.length >= n ? [...requests] : undefined), timeoutMs, `${n} webhook request(s)`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface BatchEventBody {
  type: string;
  timestamp: string;
  data: { batch: { id: string; status: string; counts: Record<string, number>; metadata: unknown; createdAt: string; finishedAt: string | null; resultsUrl: string } };
}

/** Verifies a request the way a receiver would, with the standardwebhooks package; throws if it does not verify. */
export function verified(secret: string, request: ReceivedRequest): BatchEventBody {
  return new Webhook(secret).verify(request.body, request.headers) as BatchEventBody;
}

export const ENDPOINT_FIELDS = `id url events description enabled disabledReason previousSecretExpiresAt createdAt updatedAt`;
export const DELIVERY_FIELDS = `id endpointId webhookId eventType batchId status attempts lastAttemptAt lastResponseStatus
  lastResponseBody lastError nextAttemptAt createdAt`;

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryView {
  id: string;
  endpointId: string;
  webhookId: string;
  eventType: string;
  batchId: string;
  status: string;
  attempts: number;
  lastAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastResponseBody: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

export const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_FIELDS} } }
}`;
export const UPDATE_ENDPOINT = `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { ${ENDPOINT_FIELDS} } } }`;
export const DELETE_ENDPOINT = `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedEndpointId } }`;
export const ROTATE_SECRET = `mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret endpoint { ${ENDPOINT_FIELDS} } } }`;
export const ENDPOINTS = `query($first: Int, $after: String) {
  webhookEndpoints(first: $first, after: $after) { totalCount edges { cursor node { ${ENDPOINT_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;
export const DELIVERIES = `query($endpointId: ID!, $first: Int, $after: String, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $endpointId, first: $first, after: $after, status: $status) {
    totalCount edges { cursor node { ${DELIVERY_FIELDS} } } pageInfo { hasNextPage endCursor }
  }
}`;
export const REDELIVER = `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { delivery { ${DELIVERY_FIELDS} } } }`;

/** Runs an operation as `key`'s tenant; fails the test on any error. */
export async function as<T>(url: string, key: TestKey, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await post<T>(url, query, { key: key.key, variables });
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export async function createEndpoint(url: string, key: TestKey, input: Record<string, unknown>): Promise<{ endpoint: EndpointView; secret: string }> {
  return (await as<{ createWebhookEndpoint: { endpoint: EndpointView; secret: string } }>(url, key, CREATE_ENDPOINT, { input })).createWebhookEndpoint;
}

export async function deliveriesOf(url: string, key: TestKey, endpointId: string): Promise<DeliveryView[]> {
  const data = await as<{ webhookDeliveries: { edges: { node: DeliveryView }[] } }>(url, key, DELIVERIES, { endpointId, first: 100 });
  return data.webhookDeliveries.edges.map((e) => e.node);
}

/** Waits until the endpoint's delivery of `batchId` satisfies `done`; returns it. */
export async function waitForDelivery(
  url: string,
  key: TestKey,
  endpointId: string,
  batchId: string,
  done: (delivery: DeliveryView) => boolean,
  timeoutMs = 60_000,
): Promise<DeliveryView> {
  return waitFor(
    async () => (await deliveriesOf(url, key, endpointId)).find((d) => d.batchId === batchId && done(d)),
    timeoutMs,
    `the delivery of batch ${batchId} to reach the expected state`,
  );
}

export async function submitAs(url: string, key: TestKey, input: Record<string, unknown>): Promise<BatchView> {
  return (await as<{ submitBatch: { batch: BatchView } }>(url, key, SUBMIT, { input })).submitBatch.batch;
}
