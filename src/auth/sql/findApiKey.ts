// findApiKey.ts: the key a request presents, by the hash of what it sent.
import type { Pool } from "../../db/pool.ts";

export interface KeyLookup {
  id: string;
  tenant: string;
  revoked: boolean;
}

export async function findApiKeyByHash(pool: Pool, hash: string): Promise<KeyLookup | undefined> {
  const { rows } = await pool.query<KeyLookup>(
    `select id, tenant, revoked_at is not null as revoked from api_key where hash = $1`,
    [hash],
  );
  return rows[0];
}

/** Of `ids`, the keys that are revoked (or gone): one statement for every open socket's key. */
export async function revokedApiKeys(pool: Pool, ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `select ids.id::text as id from unnest($1::uuid[]) as ids (id)
     left join api_key k on k.id = ids.id
     where k.id is null or k.revoked_at is not null`,
    [ids],
  );
  return rows.map((row) => row.id);
}

/** Whether any key was ever created: none means the development server runs open. */
export async function anyApiKey(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ exists: boolean }>(`select exists (select 1 from api_key) as exists`);
  return rows[0]!.exists;
}
