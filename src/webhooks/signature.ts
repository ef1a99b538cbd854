// signature.ts: the Standard Webhooks headers of one attempt: webhook-id, webhook-timestamp and
// webhook-signature (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret).
import { createHmac } from "node:crypto";
import { secretKeyBytes } from "./secrets.ts";

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * `secrets` are the endpoint's current secret and, for 24 hours after a rotation, the previous
 * one: the spec lets a header carry several space-separated signatures, any of which verifies.
 */
export function signedHeaders(webhookId: string, at: Date, body: string, secrets: readonly string[]): SignedHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signatures = secrets.map(
    (secret) => `v1,${createHmac("sha256", secretKeyBytes(secret)).update(`${webhookId}.${timestamp}.${body}`).digest("base64")}`,
  );
  return { "webhook-id": webhookId, "webhook-timestamp": timestamp, "webhook-signature": signatures.join(" ") };
}
