-- Up Migration
-- The JSON text size of each task's input and result, so a page of tasks can stop where a
-- response's byte budget (MAX_RESPONSE_BYTES) runs out without reading the rows past it.
-- Generated: PostgreSQL computes each when its column is written (an update of other columns
-- does not recompute it), so no writer has to remember it. Adding them rewrites the table once.
alter table task add column input_bytes integer generated always as (octet_length(input::text)) stored;
alter table task add column result_bytes integer generated always as (coalesce(octet_length(result::text), 0)) stored;

-- Down Migration
alter table task drop column result_bytes;
alter table task drop column input_bytes;
