-- Up Migration
-- The tenant-wide batchUpdates feed: after its LISTEN connection was lost, an API process re-reads
-- the batches of the tenants it has subscribers for that may have changed meanwhile: the
-- unfinished ones, and those finished since. Neither column changes on a counter-only update, so
-- the batch row's updates stay as cheap as before.
create index batch_owner_unfinished on batch (owner, seq desc) where status in ('QUEUED', 'RUNNING', 'CANCELING');
create index batch_owner_finished_at on batch (owner, finished_at) where finished_at is not null;

-- Down Migration
drop index batch_owner_finished_at;
drop index batch_owner_unfinished;
