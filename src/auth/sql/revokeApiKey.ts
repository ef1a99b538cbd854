// revokeApiKey.ts: marks a key revoked (once); the row stays, so open mode never comes back.
import type { Pool } from "../../db/pool.ts";
import type { ApiKeyRow } from "./listApiKeys.ts";

/** The key after the call, or undefined when there is no such key. */
export async function revokeApiKey(pool: Pool, id: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await pool.query<ApiKeyRow>(
    `update api_key set revoked_at = coalesce(revoked_at, now()) where id = $1
     returning id, tenant, prefix, name, created_at, revoked_at`,
    [id],
  );
  return rows[0];
}
