// listApiKeys.ts: the keys `npm run keys -- list` shows (never their hashes), oldest first.
import type { Pool } from "../../db/pool.ts";

export interface ApiKeyRow {
  id: string;
  tenant: string;
  prefix: string;
  name: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

export async function listApiKeys(pool: Pool, tenant: string | null): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query<ApiKeyRow>(
    `select id, tenant, prefix, name, created_at, revoked_at from api_key
     where $1::text is null or tenant = $1
     order by tenant, created_at`,
    [tenant],
  );
  return rows;
}
