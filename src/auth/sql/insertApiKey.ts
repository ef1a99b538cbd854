// insertApiKey.ts: stores a new key's hash and shown prefix for a tenant.
import type { Pool } from "../../db/pool.ts";
import type { ApiKeyRow } from "./listApiKeys.ts";

export async function insertApiKey(
  pool: Pool,
  key: { tenant: string; prefix: string; hash: string; name: string | null },
): Promise<ApiKeyRow> {
  const { rows } = await pool.query<ApiKeyRow>(
    `insert into api_key (tenant, prefix, hash, name) values ($1, $2, $3, $4)
     returning id, tenant, prefix, name, created_at, revoked_at`,
    [key.tenant, key.prefix, key.hash, key.name],
  );
  return rows[0]!;
}
