// getBatch.ts: one batch of one owner by id, or by idempotency key.
import type { Pool, PoolClient } from "../../db/pool.ts";
import { isUuid, type BatchRow } from "../rows.ts";

export async function getBatch(db: Pool | PoolClient, owner: string, id: string): Promise<BatchRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<BatchRow>(`select * from batch where id = $1 and owner = $2`, [id, owner]);
  return rows[0];
}

export async function getBatchByIdempotencyKey(db: Pool | PoolClient, owner: string, key: string): Promise<BatchRow | undefined> {
  const { rows } = await db.query<BatchRow>(`select * from batch where owner = $1 and idempotency_key = $2`, [owner, key]);
  return rows[0];
}

