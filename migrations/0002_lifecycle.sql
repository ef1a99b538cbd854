-- Up Migration
-- Expiry, retention and cancellation: an EXPIRED task status with a counter of its own, the
-- time a finished batch's results may be deleted, and the pg-boss job a running task holds.
alter table task drop constraint task_status_check;
alter table task add constraint task_status_check
  check (status in ('QUEUED', 'RUNNING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'EXPIRED'));
-- The job of the task's latest attempt (a redriven job has a new id).
alter table task add column job_id uuid;
update task set job_id = id;

alter table batch add column expired integer not null default 0;
alter table batch add column retention_seconds integer not null default 604800;
alter table batch add column purge_at timestamptz;
alter table batch drop constraint batch_check;
alter table batch add constraint batch_counts_add_up
  check (queued + running + retrying + succeeded + failed + canceled + expired = total);

-- The maintenance sweep reads batches past their completion window, and finished ones past retention.
create index batch_expires_at on batch (expires_at) where status in ('QUEUED', 'RUNNING');
create index batch_purge_at on batch (purge_at) where purge_at is not null;
-- ... and tasks that have been RUNNING for suspiciously long.
create index task_running_started_at on task (started_at) where status = 'RUNNING';

-- Down Migration
drop index task_running_started_at;
drop index batch_purge_at;
drop index batch_expires_at;
alter table batch drop constraint batch_counts_add_up;
alter table batch add constraint batch_check
  check (queued + running + retrying + succeeded + failed + canceled = total);
alter table batch drop column purge_at;
alter table batch drop column retention_seconds;
alter table batch drop column expired;
alter table task drop column job_id;
alter table task drop constraint task_status_check;
alter table task add constraint task_status_check
  check (status in ('QUEUED', 'RUNNING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELED'));
