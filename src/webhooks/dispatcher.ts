// dispatcher.ts: the outbox's reader. Every interval it turns recorded batch events into
// deliveries and their pg-boss jobs, in one transaction per round: a crash before the commit
// leaves the events for the next round (of this process or another), one after leaves nothing
// to redo. It also deletes old settled events now and then.
import type { PgBoss } from "pg-boss";
import { bossDb, withTransaction, type Pool } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { dispatchEvents, purgeEvents } from "./sql/dispatch.ts";
import { deliveryJob, WEBHOOK_QUEUE } from "./queue.ts";

export interface DispatcherDeps {
  pool: Pool;
  boss: PgBoss;
  log: Logger;
  /** How often the outbox is read, in ms. */
  intervalMs: number;
  retryBaseSeconds: number;
}

export interface Dispatcher {
  /** Dispatches everything recorded so far; resolves with how many events it took. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

const EVENTS_PER_ROUND = 100;
const PURGE_EVERY_MS = 10 * 60_000; // 10 minutes
const PURGE_LIMIT = 1_000;

async function dispatchAll(deps: DispatcherDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const claimed = await withTransaction(deps.pool, async (client) => {
      const { claimed, deliveryIds } = await dispatchEvents(client, EVENTS_PER_ROUND);
      if (deliveryIds.length > 0) {
        await deps.boss.insert(WEBHOOK_QUEUE, deliveryIds.map((id) => deliveryJob(id, id, deps.retryBaseSeconds)), { db: bossDb(client) });
      }
      if (claimed > 0) deps.log.debug({ events: claimed, deliveries: deliveryIds.length }, "webhook events dispatched");
      return claimed;
    });
    total += claimed;
    if (claimed < EVENTS_PER_ROUND) return total;
  }
}

export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  let running: Promise<number> = Promise.resolve(0);
  let lastPurge = Date.now();
  const runOnce = () => {
    running = running
      .then(async () => {
        const dispatched = await dispatchAll(deps);
        if (Date.now() - lastPurge >= PURGE_EVERY_MS) {
          lastPurge = Date.now();
          const purged = await purgeEvents(deps.pool, PURGE_LIMIT);
          if (purged > 0) deps.log.info({ events: purged }, "deleted old webhook events");
        }
        return dispatched;
      })
      .catch((error: unknown) => {
        // The events stay recorded: the next round takes them (a database restart, for one).
        deps.log.warn({ err: error }, "webhook dispatch failed");
        return 0;
      });
    return running;
  };
  // Events recorded while no dispatcher ran (all workers down) wait at most one interval after start.
  const timer = setInterval(() => void runOnce(), deps.intervalMs);
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
