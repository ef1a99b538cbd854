// attempts.ts (sql): what one webhook attempt needs to read, and how its outcome is written: on the
// delivery, and on its endpoint's failure streak (three days of nothing but failures disable it).
import type { Pool, PoolClient } from "../../db/pool.ts";
import type { WebhookEventType } from "../events.ts";
import type { BatchSnapshot } from "../payload.ts";
import type { DeliveryStatus } from "./deliveries.ts";

/** An endpoint that has failed every attempt for this long is disabled. */
export const DISABLE_AFTER = "3 days";

export interface AttemptTarget {
  id: string;
  status: DeliveryStatus;
  job_id: string;
  endpoint_id: string;
  owner: string;
  url: string;
  enabled: boolean;
  disabled_reason: string | null;
  sealed_secret: string;
  /** The secret a rotation replaced, while it still signs. */
  sealed_previous_secret: string | null;
  event_id: string;
  event_type: WebhookEventType;
  event_created_at: Date;
  batch_id: string;
  batch: BatchSnapshot;
}

export async function attemptTarget(db: Pool, deliveryId: string): Promise<AttemptTarget | undefined> {
  const { rows } = await db.query<AttemptTarget>(
    `select d.id, d.status, d.job_id, d.endpoint_id, ep.owner, ep.url, ep.enabled, ep.disabled_reason,
            ep.secret as sealed_secret,
            case when ep.previous_secret_expires_at > now() then ep.previous_secret end as sealed_previous_secret,
            e.id as event_id, e.type as event_type, e.created_at as event_created_at, e.batch_id, e.batch
     from webhook_delivery d
     join webhook_endpoint ep on ep.id = d.endpoint_id
     join webhook_event e on e.id = d.event_id
     where d.id = $1`,
    [deliveryId],
  );
  return rows[0];
}

export interface AttemptRecord {
  deliveryId: string;
  /** The job that made the attempt: a delivery handed to another job since (redelivered) is left alone. */
  jobId: string;
  /** Whether the attempt was sent (a disabled endpoint's is not): only those count toward the streak. */
  sent: boolean;
  ok: boolean;
  status: DeliveryStatus;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  nextAttemptAt: Date | null;
}

/** Writes the attempt; returns the endpoint's disabled_reason when this attempt disabled it. */
export async function recordAttempt(client: PoolClient, a: AttemptRecord): Promise<string | undefined> {
  const { rows } = await client.query<{ disabled_reason: string | null }>(
    `with delivery as (
       update webhook_delivery set
         attempts = attempts + $3::int,
         last_attempt_at = case when $3::int > 0 then now() else last_attempt_at end,
         last_response_status = case when $3::int > 0 then $5 else last_response_status end,
         last_response_body = case when $3::int > 0 then $6 else last_response_body end,
         last_error = $7,
         status = $8, next_attempt_at = $9
       -- Settled already (another attempt of the same job won a race with an expiry): left as it is.
       where id = $1 and job_id = $2 and status = 'PENDING'
       returning endpoint_id
     ), streak as (
       select ep.id, ep.enabled,
              ep.enabled and not $4::bool and coalesce(ep.failing_since < now() - interval '${DISABLE_AFTER}', false) as disable
       from webhook_endpoint ep join delivery on delivery.endpoint_id = ep.id
       where $3::int > 0
       for update of ep
     )
     update webhook_endpoint ep set
       failing_since = case when $4::bool then null else coalesce(ep.failing_since, now()) end,
       enabled = ep.enabled and not streak.disable,
       disabled_reason = case when streak.disable
         then format('every delivery attempt failed for ${DISABLE_AFTER} (since %s); the last one: %s',
                     to_char(ep.failing_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), $7)
         else ep.disabled_reason end,
       updated_at = case when streak.disable then now() else ep.updated_at end
     from streak where ep.id = streak.id
     returning case when streak.disable then ep.disabled_reason end as disabled_reason`,
    [a.deliveryId, a.jobId, a.sent ? 1 : 0, a.ok, a.responseStatus, a.responseBody, a.error, a.status, a.nextAttemptAt],
  );
  return rows[0]?.disabled_reason ?? undefined;
}
