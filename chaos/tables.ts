// tables.ts: the final checks' reads of batchwire's own tables (batch, task), straight from
// PostgreSQL, after every process has stopped.
import type pg from "pg";
import { COUNTERS, type Counts } from "./subscribers.ts";

export interface BatchRow {
  id: string;
  status: string;
  /** The batch's counter columns, as stored. */
  counters: Partial<Counts>;
}

export interface TaskRow {
  id: string;
  batchId: string;
  kind: string;
  status: string;
  attempts: number;
  input: unknown;
  result: unknown;
  error: { code?: string; message?: string } | null;
}

export interface Tables {
  batches: Map<string, BatchRow>;
  tasks: TaskRow[];
  /** count(*) of each batch's tasks by status. */
  countsByBatch: Map<string, Record<string, number>>;
}

export async function readTables(client: pg.ClientBase): Promise<Tables> {
  const batches = new Map<string, BatchRow>();
  for (const row of (await client.query<Record<string, unknown>>(`select * from batch`)).rows) {
    const counters: Partial<Counts> = {};
    for (const key of [...COUNTERS, "total"] as const) if (typeof row[key] === "number") counters[key] = row[key];
    batches.set(String(row.id), { id: String(row.id), status: String(row.status), counters });
  }
  const { rows } = await client.query<TaskRow>(
    `select id, batch_id as "batchId", kind, status, attempts, input, result, error from task`,
  );
  const countsByBatch = new Map<string, Record<string, number>>();
  for (const { batch_id, status, n } of (
    await client.query<{ batch_id: string; status: string; n: number }>(`select batch_id, status, count(*)::int as n from task group by 1, 2`)
  ).rows) {
    const counts = countsByBatch.get(batch_id) ?? {};
    counts[status] = n;
    countsByBatch.set(batch_id, counts);
  }
  return { batches, tasks: rows, countsByBatch };
}
