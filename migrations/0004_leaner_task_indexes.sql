-- Up Migration
-- Every status change writes a new task row version and an entry in each of the task's indexes
-- (the batch version it carries is indexed, so no update is HOT). Two indexes stop taking
-- entries they never serve:
-- - customId uniqueness only concerns tasks that have one;
-- - batch.tasks(status: SUCCEEDED) reads the (batch_id, index) index and skips the rest (most
--   tasks end SUCCEEDED), so the status index only keeps the other statuses, which are the
--   ones worth finding among many.
alter table task drop constraint task_batch_id_custom_id_key;
create unique index task_batch_custom_id on task (batch_id, custom_id) where custom_id is not null;
drop index task_batch_status_index;
create index task_batch_status_index on task (batch_id, status, index) where status <> 'SUCCEEDED';

-- Down Migration
drop index task_batch_status_index;
create index task_batch_status_index on task (batch_id, status, index);
drop index task_batch_custom_id;
alter table task add constraint task_batch_id_custom_id_key unique (batch_id, custom_id);
