// authenticator.ts: turns a presented credential into the tenant a request acts for.
import type { Pool } from "../db/pool.ts";
import { unauthenticated } from "../errors.ts";
import { hashKey, looksLikeKey, parseBearer } from "./apiKeys.ts";
import { anyApiKey, findApiKeyByHash, revokedApiKeys } from "./sql/findApiKey.ts";

/** The tenant of the open development mode (no key ever created, not production). */
export const DEFAULT_TENANT = "default";

export interface Principal {
  tenant: string;
  /** The API key's id; null in the open development mode. */
  keyId: string | null;
}

export interface AuthenticatorOptions {
  /** Production never runs open: every request needs a valid key. */
  production: boolean;
}

export class Authenticator {
  readonly #pool: Pool;
  readonly #production: boolean;
  /** Keys are revoked, never deleted: once one exists, the open mode is over for good. */
  #keysExist = false;

  constructor(pool: Pool, { production }: AuthenticatorOptions) {
    this.#pool = pool;
    this.#production = production;
  }

  /** Whether any key was ever created (revoked ones included). */
  async keysExist(): Promise<boolean> {
    if (!this.#keysExist) this.#keysExist = await anyApiKey(this.#pool);
    return this.#keysExist;
  }

  /** Whether a request without a key is let in, as the default tenant. */
  async isOpen(): Promise<boolean> {
    return !this.#production && !(await this.keysExist());
  }

  /**
   * `authorization` is the HTTP header's value or connection_init's `authorization`.
   * Throws UNAUTHENTICATED (HTTP 401) for a missing, malformed, unknown or revoked key.
   */
  async authenticate(authorization: unknown): Promise<Principal> {
    const key = parseBearer(authorization);
    if (key === undefined) {
      if (await this.isOpen()) return { tenant: DEFAULT_TENANT, keyId: null };
      throw unauthenticated("an API key is required: send `Authorization: Bearer <key>`");
    }
    if (key === null) throw unauthenticated("malformed credential: expected `Bearer <key>`");
    // Not even well-formed: no need to ask the database.
    const found = looksLikeKey(key) ? await findApiKeyByHash(this.#pool, hashKey(key)) : undefined;
    if (!found || found.revoked) throw unauthenticated("the API key is unknown or revoked");
    this.#keysExist = true;
    return { tenant: found.tenant, keyId: found.id };
  }

  /** Whether a principal accepted earlier may still act (its key not revoked; open mode not over). */
  async stillValid(principal: Principal): Promise<boolean> {
    if (principal.keyId === null) return this.isOpen();
    return (await revokedApiKeys(this.#pool, [principal.keyId])).length === 0;
  }

  /** Of these key ids, the ones no longer valid. */
  revoked(keyIds: string[]): Promise<string[]> {
    return keyIds.length === 0 ? Promise.resolve([]) : revokedApiKeys(this.#pool, keyIds);
  }
}
