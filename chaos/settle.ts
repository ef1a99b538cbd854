// settle.ts: after the faults, waits for the conditions that end a run (every batch and task final,
// every subscriber holding its final event) until a deadline, reporting what is still open.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { Subscribers } from "./subscribers.ts";

export interface Settled {
  settled: boolean;
  seconds: number;
  /** Not final yet, or without the final event, when it ended. */
  open: { batches: number; tasks: number; subscribers: number };
}

export async function settle(pool: pg.Pool, subscribers: Subscribers, seconds: number, say: (line: string) => void): Promise<Settled> {
  const start = Date.now();
  let open = { batches: -1, tasks: -1, subscribers: -1 };
  const done = () => open.batches === 0 && open.tasks === 0 && open.subscribers === 0;
  let lastReport = start;
  while (Date.now() < start + seconds * 1000) {
    try {
      const { rows } = await pool.query<{ batches: number; tasks: number }>(
        `select (select count(*)::int from batch where status not in ('COMPLETED', 'CANCELED', 'EXPIRED')) as batches,
                (select count(*)::int from task where status not in ('SUCCEEDED', 'FAILED', 'CANCELED', 'EXPIRED')) as tasks`,
      );
      open = { ...rows[0]!, subscribers: subscribers.pending().length };
    } catch {
      // tried again on the next round
    }
    if (done()) break;
    if (Date.now() - lastReport >= 15_000) {
      lastReport = Date.now();
      say(`  settling +${Math.round((lastReport - start) / 1000)}s: ${open.batches} batches and ${open.tasks} tasks not final, ${open.subscribers} subscribers without their final event`);
    }
    await sleep(250);
  }
  return { settled: done(), seconds: (Date.now() - start) / 1000, open };
}
