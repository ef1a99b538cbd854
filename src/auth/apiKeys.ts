// apiKeys.ts: the API key format: a high-entropy random secret, kept only as its SHA-256.
import { createHash, randomBytes } from "node:crypto";

/** Keys look like `bw_` + 43 base64url characters (32 random bytes). */
const KEY_PREFIX = "bw_";
const KEY_PATTERN = /^bw_[A-Za-z0-9_-]{43}$/;
/** How much of a key `keys list` shows: enough to tell keys apart, far too little to guess one. */
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 8;

export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface NewKey {
  key: string;
  prefix: string;
  hash: string;
}

export function generateKey(): NewKey {
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, SHOWN_PREFIX_LENGTH), hash: hashKey(key) };
}

/**
 * A plain SHA-256 is enough here: the key carries 256 random bits, so there is nothing for a
 * slow password hash to protect, and lookups by hash stay one index probe.
 */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function looksLikeKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/**
 * Reads `Bearer <key>` (HTTP header or the WebSocket connection_init payload).
 * Returns undefined when no credential was sent, null when one was sent but is malformed.
 */
export function parseBearer(authorization: unknown): string | null | undefined {
  if (authorization === undefined || authorization === null || authorization === "") return undefined;
  if (typeof authorization !== "string") return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  return match ? match[1]! : null;
}
