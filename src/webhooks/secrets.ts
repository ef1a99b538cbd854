// secrets.ts: webhook signing secrets: made (Standard Webhooks' `whsec_` form), and sealed with
// AES-256-GCM under a key kept outside the database, so a database reader alone cannot sign.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32; // Standard Webhooks asks for 24 to 64
const KEY_BYTES = 32; // AES-256
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The development key's file inside DATA_DIR. */
export const DEV_KEY_FILE = "webhook-secret.key";

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString("base64")}`;
}

/** The HMAC-SHA256 key a `whsec_` secret stands for. */
export function secretKeyBytes(secret: string): Buffer {
  return Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
}

/** WEBHOOK_SECRET_KEY's form: base64 of exactly 32 bytes (`openssl rand -base64 32`). */
export function isSealingKey(value: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, "base64").length === KEY_BYTES;
}

export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/**
 * Seals and opens endpoint secrets. A sealed secret is `v1:<key id>:<base64 of iv|ciphertext|tag>`;
 * the endpoint's id is the additional data, so a sealed secret copied onto another endpoint does
 * not open. The key id (the first 8 hex digits of the key's SHA-256) tells which key sealed it.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SecretKeyError(`the webhook sealing key must be ${KEY_BYTES} bytes`);
    this.#key = key;
    this.keyId = createHash("sha256").update(key).digest("hex").slice(0, 8);
  }

  seal(secret: string, endpointId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(endpointId));
    const sealed = Buffer.concat([iv, cipher.update(secret, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `v1:${this.keyId}:${sealed.toString("base64")}`;
  }

  open(sealed: string, endpointId: string): string {
    const [version, keyId, data] = sealed.split(":");
    if (version !== "v1" || !keyId || !data) throw new SecretKeyError("the stored webhook secret is not in a known form");
    if (keyId !== this.keyId) {
      throw new SecretKeyError(`the endpoint's secret was sealed with key ${keyId}; this process has key ${this.keyId} (WEBHOOK_SECRET_KEY differs)`);
    }
    const bytes = Buffer.from(data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(endpointId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new SecretKeyError("the endpoint's stored secret does not open (altered, or sealed for another endpoint)", { cause: error });
    }
  }
}

export interface SealingKeySource {
  /** WEBHOOK_SECRET_KEY, if set. */
  key: string | undefined;
  production: boolean;
  dataDir: string;
}

/**
 * The key from WEBHOOK_SECRET_KEY; in development without it, a random key kept in
 * `<DATA_DIR>/webhook-secret.key` (mode 0600), made by the first process that needs it. Production
 * has no fallback: processes on several hosts must share one key, and a file on one host is not.
 */
export async function loadSealingKey(source: SealingKeySource): Promise<SecretBox> {
  if (source.key) return new SecretBox(Buffer.from(source.key, "base64"));
  if (source.production) throw new SecretKeyError("webhooks need WEBHOOK_SECRET_KEY in production (`openssl rand -base64 32`)");
  const path = join(source.dataDir, DEV_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return new SecretBox(existing);
  // Written aside and linked into place: a process racing this one reads a whole key or none,
  // and link() fails when another won, whose key then counts.
  await mkdir(source.dataDir, { recursive: true });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(draft, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { mode: 0o600 });
  try {
    await link(draft, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  } finally {
    await unlink(draft).catch(() => undefined);
  }
  return new SecretBox((await readKeyFile(path))!);
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  try {
    const text = (await readFile(path, "utf8")).trim();
    if (!isSealingKey(text)) throw new SecretKeyError(`${path} does not hold a base64 key of ${KEY_BYTES} bytes`);
    return Buffer.from(text, "base64");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
