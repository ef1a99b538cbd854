// finishedOverTime.ts: how many of a batch's tasks finished in each of some equal slices of its
// run, in one grouped statement over the batch's tasks (a chart's history).
import type { Pool } from "../../db/pool.ts";

export interface FinishedSlice {
  start: Date;
  end: Date;
  /** Tasks that reached a final status in the slice, and of those, the FAILED ones. */
  finished: number;
  failed: number;
}

/** `slices` equal slices from `from` to `to`; a task that finished later counts in the last. */
export async function finishedOverTime(pool: Pool, batchId: string, from: Date, to: Date, slices: number): Promise<FinishedSlice[]> {
  const width = Math.max(1, to.getTime() - from.getTime()) / slices;
  const { rows } = await pool.query<{ slice: number; finished: number; failed: number }>(
    `select least(greatest(floor(extract(epoch from finished_at - $2::timestamptz) * 1000 / $3), 0), $4 - 1)::int as slice,
            count(*)::int as finished, count(*) filter (where status = 'FAILED')::int as failed
     from task where batch_id = $1 and finished_at is not null
     group by 1`,
    [batchId, from, width, slices],
  );
  const bySlice = new Map(rows.map((row) => [row.slice, row]));
  return Array.from({ length: slices }, (_, i) => ({
    start: new Date(from.getTime() + i * width),
    end: new Date(from.getTime() + (i + 1) * width),
    finished: bySlice.get(i)?.finished ?? 0,
    failed: bySlice.get(i)?.failed ?? 0,
  }));
}
