// webhookSecrets.test.ts: endpoint secrets are Standard Webhooks secrets, stored sealed with a key
// that is not in the database: what is stored alone cannot sign, nor be moved to another endpoint.
// Development keeps a generated key in DATA_DIR; production needs WEBHOOK_SECRET_KEY.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { DEV_KEY_FILE, generateSecret, loadSealingKey, SecretBox } from "../src/webhooks/secrets.ts";
import { signedHeaders } from "../src/webhooks/signature.ts";
import { codes, createKey, post } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { CREATE_ENDPOINT } from "./helpers/webhooks.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "batchwire-webhook-key-"));
  dirs.push(dir);
  return dir;
}

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

describe("secrets", () => {
  it("are whsec_ and base64 of 32 random bytes, different every time", () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it("sign so that standardwebhooks verifies, with each of several secrets in one header", () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const body = JSON.stringify({ type: "batch.completed" });
    const headers = signedHeaders("msg_1", new Date(), body, [current, previous]);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(current).verify(body, { ...headers })).toEqual({ type: "batch.completed" });
    expect(new Webhook(previous).verify(body, { ...headers })).toEqual({ type: "batch.completed" });
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(current).verify(`${body} `, { ...headers })).toThrow();
  });

  it("open only with the key that sealed them, and only for the endpoint they were sealed for", () => {
    const secret = generateSecret();
    const sealed = new SecretBox(keyA).seal(secret, "endpoint-1");
    expect(sealed).not.toContain(secret.slice(6));
    expect(new SecretBox(keyA).open(sealed, "endpoint-1")).toBe(secret);
    expect(() => new SecretBox(keyB).open(sealed, "endpoint-1")).toThrow(/sealed with key [0-9a-f]{8}; this process has key [0-9a-f]{8}/);
    // Copied onto another endpoint's row, it does not open.
    expect(() => new SecretBox(keyA).open(sealed, "endpoint-2")).toThrow(/does not open/);
    // Altered, it does not open either.
    const altered = sealed.slice(0, -4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(() => new SecretBox(keyA).open(altered, "endpoint-1")).toThrow();
  });
});

describe("the sealing key", () => {
  it("comes from WEBHOOK_SECRET_KEY, which must be base64 of 32 bytes", async () => {
    expect(loadConfig({ WEBHOOK_SECRET_KEY: keyA.toString("base64") }).webhookSecretKey).toBe(keyA.toString("base64"));
    expect(() => loadConfig({ WEBHOOK_SECRET_KEY: "short" })).toThrow(/WEBHOOK_SECRET_KEY: must be base64 of 32 bytes/);
    const box = await loadSealingKey({ key: keyA.toString("base64"), production: true, dataDir: "/nonexistent" });
    expect(box.open(new SecretBox(keyA).seal("whsec_x", "e"), "e")).toBe("whsec_x");
  });

  it("in development without it, is generated once into DATA_DIR (mode 0600) and shared by every process using that folder", async () => {
    const dir = await dataDir();
    const boxes = await Promise.all(Array.from({ length: 5 }, () => loadSealingKey({ key: undefined, production: false, dataDir: dir })));
    expect(new Set(boxes.map((b) => b.keyId)).size).toBe(1);
    const file = await stat(join(dir, DEV_KEY_FILE));
    expect(file.mode & 0o777).toBe(0o600);
    const later = await loadSealingKey({ key: undefined, production: false, dataDir: dir });
    expect(later.open(boxes[0]!.seal("whsec_y", "e"), "e")).toBe("whsec_y");
  });

  it("in production without it, is missing: no file is made", async () => {
    const dir = await dataDir();
    await expect(loadSealingKey({ key: undefined, production: true, dataDir: dir })).rejects.toThrow(/WEBHOOK_SECRET_KEY/);
    await expect(stat(join(dir, DEV_KEY_FILE))).rejects.toThrow(/ENOENT/);
  });
});

describe("a production server without WEBHOOK_SECRET_KEY", () => {
  let db: TestDatabase;
  let server: TestServer;
  serverForFile({ role: "api", production: true, webhookSecretKey: undefined }, (file) => ({ db, server } = file));

  it("answers createWebhookEndpoint with WEBHOOKS_NOT_CONFIGURED and stores nothing", async () => {
    const key = await createKey(db.pool, "alice");
    const result = await post(server.url, CREATE_ENDPOINT, { key: key.key, variables: { input: { url: "https://receiver.example.invalid/" } } });
    expect(codes(result)).toEqual(["WEBHOOKS_NOT_CONFIGURED"]);
    expect(result.errors![0]!.message).toMatch(/WEBHOOK_SECRET_KEY/);
    const { rows } = await db.pool.query(`select count(*)::int as n from webhook_endpoint`);
    expect(rows[0].n).toBe(0);
  });
});
