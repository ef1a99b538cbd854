// progress.ts: coalesces ctx.progress() calls into one write (and one NOTIFY per batch) per interval.
import { withTransaction, type Pool } from "../db/pool.ts";
import { bumpBatches } from "../batches/sql/bumpBatches.ts";
import { lockRunningTasks, updateProgress } from "../batches/sql/updateProgress.ts";
import { zeroDelta } from "../batches/transitions.ts";
import type { Logger } from "../logger.ts";

export class ProgressBuffer {
  readonly #pool: Pool;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(pool: Pool, log: Logger, intervalMs = 250) {
    this.#pool = pool;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  report(taskId: string, fraction: number): void {
    if (!Number.isFinite(fraction)) return;
    this.#pending.set(taskId, Math.min(1, Math.max(0, fraction)));
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, this.#intervalMs);
  }

  /** Drops what a task reported; its outcome is about to be written anyway. */
  forget(taskId: string): void {
    this.#pending.delete(taskId);
  }

  async #flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await withTransaction(this.#pool, async (client) => {
        const running = await lockRunningTasks(client, [...batch.keys()]);
        if (running.size === 0) return;
        const bumped = await bumpBatches(client, [...new Set(running.values())].map(zeroDelta));
        const versions = new Map(bumped.map((b) => [b.id, b.version]));
        await updateProgress(
          client,
          [...running].map(([id, batchId]) => ({ id, progress: batch.get(id)!, batchVersion: versions.get(batchId) ?? 0 })),
        );
      });
    } catch (error) {
      // Progress is advisory: losing one write only delays the bar until the next report.
      this.#log.warn({ err: error }, "progress flush failed");
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    await this.#flushing;
  }
}
