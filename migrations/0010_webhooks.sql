-- Up Migration
-- Webhooks: a tenant's endpoints; the outbox of batch events, written in the transaction that
-- gives a batch its final status; and one delivery per (event, endpoint), attempted by pg-boss jobs.
create table webhook_endpoint (
  id               uuid primary key,
  seq              bigint generated always as identity unique,
  owner            text not null,
  url              text not null,
  events           text[] not null
                   check (cardinality(events) > 0 and events <@ array['batch.completed', 'batch.expired', 'batch.canceled']),
  description      text,
  enabled          boolean not null default true,
  disabled_reason  text,
  -- The signing secret, AES-256-GCM encrypted with a key kept outside the database
  -- (src/webhooks/secrets.ts): what is stored here alone cannot sign anything.
  secret           text not null,
  -- After a rotation the old secret signs beside the new one until previous_secret_expires_at.
  previous_secret  text,
  previous_secret_expires_at timestamptz,
  -- Since when every attempt has failed (null after a success); three days of it disable the endpoint.
  failing_since    timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
-- webhookEndpoints pages newest first within a tenant.
create index webhook_endpoint_owner_seq on webhook_endpoint (owner, seq);

create table webhook_event (
  id             uuid primary key default gen_random_uuid(),
  owner          text not null,
  type           text not null check (type in ('batch.completed', 'batch.expired', 'batch.canceled')),
  -- No foreign key: a batch may be purged (retentionSeconds 0) while its deliveries still retry.
  batch_id       uuid not null,
  -- The batch as it was at its final status: every attempt sends the same body.
  batch          jsonb not null,
  created_at     timestamptz not null default now(),
  -- Set once the event has its deliveries (and their jobs): the fan-out is done.
  dispatched_at  timestamptz
);
create index webhook_event_undispatched on webhook_event (created_at) where dispatched_at is null;
create index webhook_event_created_at on webhook_event (created_at);

create table webhook_delivery (
  id                    uuid primary key,
  seq                   bigint generated always as identity unique,
  event_id              uuid not null references webhook_event (id) on delete cascade,
  endpoint_id           uuid not null references webhook_endpoint (id) on delete cascade,
  status                text not null default 'PENDING' check (status in ('PENDING', 'SUCCEEDED', 'FAILED')),
  -- The pg-boss job that makes its attempts; a redelivery gives it a new one.
  job_id                uuid not null,
  attempts              integer not null default 0,
  last_attempt_at       timestamptz,
  last_response_status  integer,
  last_response_body    text check (octet_length(last_response_body) <= 1024),
  last_error            text,
  next_attempt_at       timestamptz,
  created_at            timestamptz not null default now(),
  unique (event_id, endpoint_id)
);
-- webhookDeliveries pages newest first within an endpoint, with or without a status.
create index webhook_delivery_endpoint_seq on webhook_delivery (endpoint_id, seq);
create index webhook_delivery_endpoint_status_seq on webhook_delivery (endpoint_id, status, seq);

-- Down Migration
drop table webhook_delivery;
drop table webhook_event;
drop table webhook_endpoint;
