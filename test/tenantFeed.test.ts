// tenantFeed.test.ts: the tenant-wide feed behind batchUpdates, driven by hand: one event per batch
// per slot with its latest state, the status filter, and a log that stays bounded when a
// subscriber stops reading (it is ended instead).
import { describe, expect, it } from "vitest";
import type { BatchRow, BatchStatus } from "../src/batches/rows.ts";
import type { OwnerListener } from "../src/events/ownerWatchers.ts";
import { FELL_BEHIND, TenantFeeds, type OwnerSource, type TenantFeedItem } from "../src/events/tenantFeed.ts";
import { waitFor } from "./helpers/server.ts";

/** The hub's side of a feed: the test hands it batches as the hub would after a read. */
class HandSource implements OwnerSource {
  readonly listeners = new Map<string, Set<OwnerListener>>();

  watchOwner(owner: string, listener: OwnerListener): () => void {
    let set = this.listeners.get(owner);
    if (!set) this.listeners.set(owner, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(batch: BatchRow): void {
    for (const listener of this.listeners.get(batch.owner) ?? []) listener(batch);
  }
}

function row(id: string, version: number, status: BatchStatus = "RUNNING", owner = "acme"): BatchRow {
  return { id, owner, version, status } as BatchRow;
}

/** Reads a stream in the background into `items`. */
function consume(stream: AsyncIterableIterator<TenantFeedItem>) {
  const items: TenantFeedItem[] = [];
  const done = (async () => {
    for await (const item of stream) items.push(item);
  })();
  return { items, done };
}

const versionsOf = (items: TenantFeedItem[], id: string) =>
  items.flatMap((item) => (item !== FELL_BEHIND && item.batch.id === id ? [item.batch.version] : []));

describe("TenantFeeds", () => {
  it("sends each changed batch once per slot, in its latest state, and only the subscriber's tenant", async () => {
    const source = new HandSource();
    const feeds = new TenantFeeds(source, { minIntervalMs: 50 });
    const stream = feeds.stream("acme", null);
    const reader = consume(stream);
    await waitFor(() => (feeds.subscribers("acme") === 1 ? true : undefined));

    // Fifty changes of one batch and one change of another arrive within one slot.
    for (let v = 1; v <= 50; v++) source.emit(row("a", v));
    source.emit(row("b", 1));
    source.emit(row("x", 1, "RUNNING", "globex"));
    await waitFor(() => (reader.items.length >= 2 ? true : undefined));
    // An older snapshot that arrives late changes nothing.
    source.emit(row("a", 49));
    source.emit(row("a", 51, "COMPLETED"));
    await waitFor(() => (versionsOf(reader.items, "a").includes(51) ? true : undefined));
    await stream.return!();
    await reader.done;

    expect(versionsOf(reader.items, "a")).toEqual([50, 51]);
    expect(versionsOf(reader.items, "b")).toEqual([1]);
    expect(versionsOf(reader.items, "x")).toEqual([]);
    // The last subscriber gone, the feed lets go of the hub and of its log.
    expect(source.listeners.get("acme")?.size).toBe(0);
    expect(feeds.held("acme")).toBe(0);
  });

  it("sends only batches in the status asked for", async () => {
    const source = new HandSource();
    const feeds = new TenantFeeds(source, { minIntervalMs: 10 });
    const completed = feeds.stream("acme", "COMPLETED");
    const all = feeds.stream("acme", null);
    const onlyCompleted = consume(completed);
    const everything = consume(all);
    await waitFor(() => (feeds.subscribers("acme") === 2 ? true : undefined));
    expect(source.listeners.get("acme")?.size).toBe(1);

    source.emit(row("a", 1, "RUNNING"));
    source.emit(row("b", 1, "RUNNING"));
    await waitFor(() => (everything.items.length === 2 ? true : undefined));
    source.emit(row("a", 2, "COMPLETED"));
    await waitFor(() => (onlyCompleted.items.length === 1 && everything.items.length === 3 ? true : undefined));
    await completed.return!();
    await all.return!();
    await Promise.all([onlyCompleted.done, everything.done]);

    expect(onlyCompleted.items).toEqual([{ batch: row("a", 2, "COMPLETED") }]);
    expect(everything.items.map((item) => item !== FELL_BEHIND && `${item.batch.id}${item.batch.version}`)).toEqual(["a1", "b1", "a2"]);
  });

  it("ends a subscriber that stops reading once the log is full, instead of growing", async () => {
    const source = new HandSource();
    const feeds = new TenantFeeds(source, { minIntervalMs: 10, maxEntries: 100 });
    const stalled = feeds.stream("acme", null);
    const reading = feeds.stream("acme", null);
    const reader = consume(reading);
    // The stalled subscriber takes its first event, then reads nothing more for a while.
    const first = stalled.next();
    await waitFor(() => (feeds.subscribers("acme") === 2 ? true : undefined));
    source.emit(row("b0", 1));
    expect((await first).value).toEqual({ batch: row("b0", 1) });

    // 2,000 more batches change, 50 at a time, each lot read by the other subscriber.
    for (let lot = 0; lot < 40; lot++) {
      for (let i = lot * 50 + 1; i <= lot * 50 + 50; i++) source.emit(row(`b${i}`, 1));
      expect(feeds.held("acme")).toBeLessThanOrEqual(100);
      await waitFor(() => (reader.items.length === lot * 50 + 51 ? true : undefined));
    }
    // When it reads again: what was already on its way, then the notice, then the end.
    const rest: TenantFeedItem[] = [];
    for await (const item of stalled) rest.push(item);
    expect(rest.at(-1)).toBe(FELL_BEHIND);
    expect(rest.length).toBeLessThanOrEqual(2);

    // The subscriber that kept reading got every batch.
    await reading.return!();
    await reader.done;
    expect(new Set(reader.items.map((item) => item !== FELL_BEHIND && item.batch.id)).size).toBe(2_001);
    expect(feeds.held("acme")).toBe(0);
  });
});
