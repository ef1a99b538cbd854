-- Up Migration
-- batch: one submitted batch; its counters always equal count(*) of its tasks by status.
create table batch (
  id               uuid primary key default gen_random_uuid(),
  seq              bigint generated always as identity unique,
  owner            text not null,
  status           text not null default 'QUEUED'
                   check (status in ('QUEUED', 'RUNNING', 'CANCELING', 'COMPLETED', 'CANCELED', 'EXPIRED')),
  priority         integer not null default 0,
  metadata         jsonb,
  idempotency_key  text,
  request_hash     text,
  total            integer not null,
  queued           integer not null,
  running          integer not null default 0,
  retrying         integer not null default 0,
  succeeded        integer not null default 0,
  failed           integer not null default 0,
  canceled         integer not null default 0,
  version          bigint not null default 0,
  created_at       timestamptz not null default now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  expires_at       timestamptz,
  check (queued + running + retrying + succeeded + failed + canceled = total)
);
create unique index batch_owner_idempotency_key on batch (owner, idempotency_key)
  where idempotency_key is not null;
-- batches(first, after, status) reads newest first per owner.
create index batch_owner_seq on batch (owner, seq desc);

-- task: one item of a batch. A pg-boss job carries the task's id as its own id.
create table task (
  id           uuid primary key,
  batch_id     uuid not null references batch (id) on delete cascade,
  index        integer not null,
  custom_id    text,
  kind         text not null,
  input        jsonb not null,
  status       text not null default 'QUEUED'
               check (status in ('QUEUED', 'RUNNING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELED')),
  attempts     integer not null default 0,
  result       jsonb,
  error        jsonb,
  progress     real,
  -- The batch's version when this task last changed: "changed since version V" is exact.
  batch_version bigint not null default 0,
  created_at   timestamptz not null default now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  updated_at   timestamptz not null default now(),
  unique (batch_id, index),
  unique (batch_id, custom_id)
);
-- batch.tasks(status: X) pages by index within one status.
create index task_batch_status_index on task (batch_id, status, index);
-- jobProgress reads the tasks of a batch that changed since a version.
create index task_batch_version on task (batch_id, batch_version);

-- Down Migration
drop table task;
drop table batch;
