// endpointUrl.ts: what a webhook endpoint's URL may be, checked when it is set and again before
// every attempt (the rules may have changed since: production, WEBHOOK_ALLOW_PRIVATE_NETWORKS).
import { addressRefusal, literalAddress } from "./addressPolicy.ts";

export const MAX_URL_LENGTH = 2_048;

export interface TargetPolicy {
  /** Production: https only. */
  production: boolean;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: loopback, private and the other special ranges are allowed. */
  allowPrivateNetworks: boolean;
}

/** The URL, or why it cannot be a webhook endpoint. A host name is checked later, at delivery. */
export function checkEndpointUrl(input: string, policy: TargetPolicy): { url: URL } | { problem: string } {
  if (input.length > MAX_URL_LENGTH) return { problem: `url is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { problem: "url is not an absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { problem: "url must be https (or http outside production)" };
  if (url.protocol === "http:" && policy.production) return { problem: "url must be https in production" };
  // Credentials in a URL end up in listings and logs; a receiver authenticates us by the signature.
  if (url.username || url.password) return { problem: "url may not contain a user name or password" };
  const address = literalAddress(url.hostname);
  if (address !== undefined && !policy.allowPrivateNetworks) {
    const refusal = addressRefusal(address);
    if (refusal) return { problem: `url's host ${address} is ${refusal}; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it` };
  }
  return { url };
}
