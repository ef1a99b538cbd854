-- Up Migration
-- api_key: a tenant's credential. Only the SHA-256 of the key is kept; the key itself is shown
-- once, by `npm run keys -- create`. A key is revoked, never deleted, so "no key was ever
-- created" (the open development mode) stays distinguishable from "all keys were revoked".
create table api_key (
  id          uuid primary key default gen_random_uuid(),
  tenant      text not null check (tenant ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  -- The key's first characters, so `keys list` can show which key is which.
  prefix      text not null,
  hash        text not null unique check (hash ~ '^[0-9a-f]{64}$'),
  name        text,
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz
);
create index api_key_tenant on api_key (tenant, created_at);

-- Down Migration
drop table api_key;
