// ownerWatchers.ts: the hub's listeners of every batch of some owners (the tenant-wide feeds), and
// what it remembers to read each changed batch of theirs once per version and no other's twice.
//
// A NOTIFY names a batch, not its owner, so a process with owner watchers reads the batches that
// changed (filtered by owner in SQL). Two bounded memories keep that cheap: the version last
// handed out per batch (a notification of a version already dispatched needs no read) and the
// batches found to belong to nobody watched here (an owner never changes, so they need no read
// again until a new owner is watched).
import type { BatchRow } from "../batches/rows.ts";

export type OwnerListener = (batch: BatchRow) => void;

/** Batches remembered in each of the two memories; past it the oldest are forgotten. */
const REMEMBERED_BATCHES = 10_000;

/** A Map that keeps its newest `limit` keys. */
class Recent<V> {
  readonly #map = new Map<string, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#limit) this.#map.delete(this.#map.keys().next().value!);
  }

  clear(): void {
    this.#map.clear();
  }
}

export class OwnerWatchers {
  readonly #listeners = new Map<string, Set<OwnerListener>>();
  readonly #dispatched = new Recent<number>(REMEMBERED_BATCHES);
  readonly #foreign = new Recent<true>(REMEMBERED_BATCHES);

  get active(): boolean {
    return this.#listeners.size > 0;
  }

  owners(): string[] {
    return [...this.#listeners.keys()];
  }

  add(owner: string, listener: OwnerListener): () => void {
    let set = this.#listeners.get(owner);
    if (!set) {
      this.#listeners.set(owner, (set = new Set()));
      // Batches judged foreign may be this owner's.
      this.#foreign.clear();
    }
    set.add(listener);
    const entry = set;
    return () => {
      entry.delete(listener);
      if (entry.size === 0 && this.#listeners.get(owner) === entry) this.#listeners.delete(owner);
    };
  }

  /** Whether a notification that `batchId` reached `version` calls for a read. */
  wants(batchId: string, version: number): boolean {
    if (!this.active || this.#foreign.get(batchId)) return false;
    return (this.#dispatched.get(batchId) ?? -1) < version;
  }

  /**
   * Hands each row of a watched owner, newer than the last one handed out, to that owner's
   * listeners. `asked` are the ids the rows were read for: those without a row belong to nobody
   * watched here (or are gone).
   */
  dispatch(rows: BatchRow[], asked: Iterable<string> = []): void {
    const found = new Set<string>();
    for (const batch of rows) {
      found.add(batch.id);
      const listeners = this.#listeners.get(batch.owner);
      if (!listeners) continue;
      if ((this.#dispatched.get(batch.id) ?? -1) >= batch.version) continue;
      this.#dispatched.set(batch.id, batch.version);
      for (const listener of listeners) listener(batch);
    }
    for (const id of asked) if (!found.has(id)) this.#foreign.set(id, true);
  }
}
