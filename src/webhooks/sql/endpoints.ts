// endpoints.ts (sql): a tenant's webhook endpoints: insert, read, page, change, delete, rotate.
import type { Pool, PoolClient } from "../../db/pool.ts";
import { isUuid } from "../../batches/rows.ts";
import type { WebhookEventType } from "../events.ts";

export interface EndpointRow {
  id: string;
  seq: number;
  owner: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  /** Until when the secret replaced by the last rotation still signs; null when none does. */
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

// Never the sealed secrets: reads for clients have no use for them.
const COLUMNS = `id, seq, owner, url, events, description, enabled, disabled_reason,
  case when previous_secret_expires_at > now() then previous_secret_expires_at end as previous_secret_expires_at,
  created_at, updated_at`;

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP = "24 hours";

export interface NewEndpoint {
  id: string;
  owner: string;
  url: string;
  events: readonly WebhookEventType[];
  description: string | null;
  sealedSecret: string;
}

export async function insertEndpoint(db: Pool | PoolClient, endpoint: NewEndpoint): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `insert into webhook_endpoint (id, owner, url, events, description, secret) values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`,
    [endpoint.id, endpoint.owner, endpoint.url, endpoint.events, endpoint.description, endpoint.sealedSecret],
  );
  return rows[0]!;
}

export async function getEndpoint(db: Pool | PoolClient, owner: string, id: string): Promise<EndpointRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<EndpointRow>(`select ${COLUMNS} from webhook_endpoint where id = $1 and owner = $2`, [id, owner]);
  return rows[0];
}

export async function countEndpoints(db: Pool | PoolClient, owner: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select count(*) as n from webhook_endpoint where owner = $1`, [owner]);
  return rows[0]?.n ?? 0;
}

/** The keyset position of one of the owner's endpoints (a cursor is the endpoint's id). */
export async function endpointSeq(db: Pool, owner: string, id: string): Promise<number | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ seq: number }>(`select seq from webhook_endpoint where id = $1 and owner = $2`, [id, owner]);
  return rows[0]?.seq;
}

export interface ListEndpointsArgs {
  owner: string;
  /** Keyset bounds on seq (exclusive). */
  beforeSeq: number | null;
  afterSeq: number | null;
  limit: number;
  ascending: boolean;
}

/** Newest first (oldest first when `ascending`). */
export async function listEndpoints(db: Pool, args: ListEndpointsArgs): Promise<EndpointRow[]> {
  const { rows } = await db.query<EndpointRow>(
    `select ${COLUMNS} from webhook_endpoint
     where owner = $1 and ($2::bigint is null or seq < $2) and ($3::bigint is null or seq > $3)
     order by seq ${args.ascending ? "asc" : "desc"} limit $4`,
    [args.owner, args.beforeSeq, args.afterSeq, args.limit],
  );
  return rows;
}

export interface EndpointChange {
  url?: string;
  events?: readonly WebhookEventType[];
  description?: string | null;
  enabled?: boolean;
}

/** Applies the fields given; enabling an endpoint clears why it was disabled and its failure streak. */
export async function updateEndpoint(db: Pool | PoolClient, owner: string, id: string, change: EndpointChange): Promise<EndpointRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<EndpointRow>(
    `update webhook_endpoint set
       url = coalesce($3, url),
       events = coalesce($4, events),
       description = case when $5 then $6 else description end,
       enabled = coalesce($7, enabled),
       disabled_reason = case when $7 then null else disabled_reason end,
       failing_since = case when $7 and not enabled then null else failing_since end,
       updated_at = now()
     where id = $1 and owner = $2
     returning ${COLUMNS}`,
    [id, owner, change.url ?? null, change.events ?? null, change.description !== undefined, change.description ?? null, change.enabled ?? null],
  );
  return rows[0];
}

export async function deleteEndpoint(db: Pool | PoolClient, owner: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query(`delete from webhook_endpoint where id = $1 and owner = $2`, [id, owner]);
  return (rowCount ?? 0) > 0;
}

/** The new secret signs from now on; the one it replaces signs beside it for ROTATION_OVERLAP. */
export async function rotateEndpointSecret(db: Pool | PoolClient, owner: string, id: string, sealedSecret: string): Promise<EndpointRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<EndpointRow>(
    `update webhook_endpoint set
       previous_secret = secret,
       previous_secret_expires_at = now() + interval '${ROTATION_OVERLAP}',
       secret = $3,
       updated_at = now()
     where id = $1 and owner = $2
     returning ${COLUMNS}`,
    [id, owner, sealedSecret],
  );
  return rows[0];
}
