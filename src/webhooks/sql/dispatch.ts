// dispatch.ts (sql): the outbox's fan-out (each recorded event becomes one delivery per enabled,
// subscribed endpoint of its tenant) and the deletion of old, settled events.
import type { Pool, PoolClient } from "../../db/pool.ts";

/** Events, their deliveries with them, are kept this long once none of their deliveries is pending. */
export const EVENT_RETENTION = "30 days";

/**
 * Claims up to `limit` undispatched events (skipping those another process holds), marks them
 * dispatched and creates their deliveries; returns the new deliveries' ids, which are also the ids
 * of their first jobs. The caller inserts those jobs in the same transaction.
 */
export async function dispatchEvents(client: PoolClient, limit: number): Promise<{ claimed: number; deliveryIds: string[] }> {
  const { rows } = await client.query<{ claimed: number; delivery_ids: string[] }>(
    `with claimed as (
       select id, owner, type from webhook_event where dispatched_at is null order by created_at limit $1 for update skip locked
     ), marked as (
       update webhook_event e set dispatched_at = now() from claimed where e.id = claimed.id
     ), created as (
       insert into webhook_delivery (id, job_id, event_id, endpoint_id, next_attempt_at)
       select n.id, n.id, n.event_id, n.endpoint_id, now()
       from (select gen_random_uuid() as id, c.id as event_id, ep.id as endpoint_id
             from claimed c join webhook_endpoint ep on ep.owner = c.owner and ep.enabled and c.type = any(ep.events)) n
       on conflict (event_id, endpoint_id) do nothing
       returning id
     )
     select (select count(*) from claimed)::int as claimed, coalesce((select array_agg(id) from created), '{}') as delivery_ids`,
    [limit],
  );
  return { claimed: rows[0]!.claimed, deliveryIds: rows[0]!.delivery_ids };
}

/** Deletes up to `limit` events past EVENT_RETENTION with no pending delivery; returns how many. */
export async function purgeEvents(db: Pool, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from webhook_event where id in (
       select e.id from webhook_event e
       where e.created_at < now() - interval '${EVENT_RETENTION}' and e.dispatched_at is not null
         and not exists (select 1 from webhook_delivery d where d.event_id = e.id and d.status = 'PENDING')
       order by e.created_at limit $1)`,
    [limit],
  );
  return rowCount ?? 0;
}
