// insertBatch.ts: writes a batch row, or nothing when its idempotency key is already taken.
import type { PoolClient } from "../../db/pool.ts";
import type { BatchRow } from "../rows.ts";

export interface NewBatch {
  owner: string;
  priority: number;
  metadata: unknown;
  idempotencyKey: string | null;
  requestHash: string;
  total: number;
  completionWindowSeconds: number;
  retentionSeconds: number;
}

export async function insertBatch(client: PoolClient, batch: NewBatch): Promise<BatchRow | undefined> {
  const { rows } = await client.query<BatchRow>(
    `insert into batch (owner, priority, metadata, idempotency_key, request_hash, total, queued, expires_at, retention_seconds)
     values ($1, $2, $3, $4, $5, $6, $6, now() + $7 * interval '1 second', $8)
     on conflict (owner, idempotency_key) where idempotency_key is not null do nothing
     returning *`,
    [batch.owner, batch.priority, batch.metadata === undefined ? null : JSON.stringify(batch.metadata), batch.idempotencyKey, batch.requestHash, batch.total, batch.completionWindowSeconds, batch.retentionSeconds],
  );
  return rows[0];
}
