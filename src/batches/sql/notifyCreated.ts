// notifyCreated.ts: the NOTIFY of a new batch, delivered when its submit commits, so that the
// tenant-wide feeds (batchUpdates) announce it like any other change: same channel, same payload.
import type { PoolClient } from "../../db/pool.ts";
import { BATCH_CHANGED_CHANNEL } from "../../events/channel.ts";
import type { BatchRow } from "../rows.ts";

export async function notifyCreated(client: PoolClient, batch: BatchRow): Promise<void> {
  await client.query(`select pg_notify($1, json_build_object('b', $2::uuid, 'v', $3::bigint)::text)`, [
    BATCH_CHANGED_CHANNEL,
    batch.id,
    batch.version,
  ]);
}
