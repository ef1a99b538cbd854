// deliveries.ts (sql): reading an endpoint's deliveries, and queueing one again.
import type { Pool, PoolClient } from "../../db/pool.ts";
import { isUuid } from "../../batches/rows.ts";
import type { WebhookEventType } from "../events.ts";

export const DeliveryStatus = { PENDING: "PENDING", SUCCEEDED: "SUCCEEDED", FAILED: "FAILED" } as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

export interface DeliveryRow {
  id: string;
  seq: number;
  endpoint_id: string;
  event_id: string;
  event_type: WebhookEventType;
  batch_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_attempt_at: Date | null;
  last_response_status: number | null;
  last_response_body: string | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
}

const SELECT = `select d.id, d.seq, d.endpoint_id, d.event_id, e.type as event_type, e.batch_id, d.status, d.attempts,
  d.last_attempt_at, d.last_response_status, d.last_response_body, d.last_error, d.next_attempt_at, d.created_at
  from webhook_delivery d join webhook_event e on e.id = d.event_id`;

/** One delivery, if it belongs to one of the owner's endpoints. */
export async function getDelivery(db: Pool | PoolClient, owner: string, id: string): Promise<DeliveryRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<DeliveryRow>(
    `${SELECT} join webhook_endpoint ep on ep.id = d.endpoint_id where d.id = $1 and ep.owner = $2`,
    [id, owner],
  );
  return rows[0];
}

/** The keyset position of one of the endpoint's deliveries (a cursor is the delivery's id). */
export async function deliverySeq(db: Pool, endpointId: string, id: string): Promise<number | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ seq: number }>(`select seq from webhook_delivery where id = $1 and endpoint_id = $2`, [id, endpointId]);
  return rows[0]?.seq;
}

export interface ListDeliveriesArgs {
  endpointId: string;
  status: DeliveryStatus | null;
  beforeSeq: number | null;
  afterSeq: number | null;
  limit: number;
  ascending: boolean;
}

/** Newest first (oldest first when `ascending`). */
export async function listDeliveries(db: Pool, args: ListDeliveriesArgs): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `${SELECT}
     where d.endpoint_id = $1 and ($2::text is null or d.status = $2)
       and ($3::bigint is null or d.seq < $3) and ($4::bigint is null or d.seq > $4)
     order by d.seq ${args.ascending ? "asc" : "desc"} limit $5`,
    [args.endpointId, args.status, args.beforeSeq, args.afterSeq, args.limit],
  );
  return rows;
}

export async function countDeliveries(db: Pool, endpointId: string, status: DeliveryStatus | null): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*) as n from webhook_delivery where endpoint_id = $1 and ($2::text is null or status = $2)`,
    [endpointId, status],
  );
  return rows[0]?.n ?? 0;
}

/** Locks the delivery and hands its attempts to a new job; returns the job it had. */
export async function reassignDelivery(client: PoolClient, id: string, jobId: string): Promise<string> {
  const { rows } = await client.query<{ previous_job_id: string }>(
    `update webhook_delivery d set job_id = $2, status = 'PENDING', next_attempt_at = now()
     from (select id, job_id from webhook_delivery where id = $1 for update) old
     where d.id = old.id
     returning old.job_id as previous_job_id`,
    [id, jobId],
  );
  return rows[0]!.previous_job_id;
}
