// lockTasks.ts: locks tasks (in id order, so concurrent flushes cannot deadlock) and reads their
// state with their batch's.
import type { Pool, PoolClient } from "../../db/pool.ts";
import type { BatchStatus, TaskStatus } from "../rows.ts";

export interface LockedTask {
  id: string;
  batch_id: string;
  kind: string;
  status: TaskStatus;
  attempts: number;
  job_id: string | null;
  custom_id: string | null;
  input: unknown;
  batch_status: BatchStatus;
  /** The batch's completion window has closed. */
  batch_expired: boolean;
}

const SELECT_TASKS = `select t.id, t.batch_id, t.kind, t.status, t.attempts, t.job_id, t.custom_id, %INPUT%,
       b.status as batch_status, coalesce(b.expires_at < now(), false) as batch_expired
     from task t join batch b on b.id = t.batch_id
     where t.id = any($1::uuid[])`;

export async function lockTasks(client: PoolClient, ids: string[], withInput: boolean): Promise<LockedTask[]> {
  const { rows } = await client.query<LockedTask>(
    `${SELECT_TASKS.replace("%INPUT%", withInput ? "t.input" : "null as input")} order by t.id for update of t`,
    [ids],
  );
  return rows;
}

/** The same, read without locks: what a worker reads before it runs tasks. */
export async function readTasks(db: Pool, ids: string[]): Promise<LockedTask[]> {
  const { rows } = await db.query<LockedTask>(SELECT_TASKS.replace("%INPUT%", "t.input"), [ids]);
  return rows;
}

/** The ids of a batch's tasks in the given statuses (read, not locked: applyTransitions locks). */
export async function taskIdsByStatus(client: PoolClient, batchId: string, statuses: readonly TaskStatus[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(`select id from task where batch_id = $1 and status = any($2::text[])`, [batchId, statuses]);
  return rows.map((row) => row.id);
}
