// rates.js: how fast a running batch finishes tasks, from the snapshots the page has seen, and the
// time it still needs at that pace. Memory is bounded: a few samples per batch, a few hundred batches.
import { finished } from "./format.js";

const WINDOW_MS = 30_000; // the pace of the last 30 seconds
const MIN_SPAN_MS = 2_000; // below this, the batch's whole run gives the pace
const MAX_SAMPLES = 30;
const MAX_BATCHES = 500;

/** batch id → [{ at, done }], oldest first. */
const samples = new Map();

/** Records a snapshot of a batch (from a query or an event). */
export function observe(batch) {
  if (batch.status !== "RUNNING") return void samples.delete(batch.id);
  const done = finished(batch.counts);
  const list = samples.get(batch.id) ?? [];
  if (list.at(-1)?.done !== done) list.push({ at: Date.now(), done });
  while (list.length > MAX_SAMPLES || (list.length > 2 && Date.now() - list[1].at > WINDOW_MS)) list.shift();
  samples.delete(batch.id);
  samples.set(batch.id, list);
  if (samples.size > MAX_BATCHES) samples.delete(samples.keys().next().value);
}

/** Tasks finished per second lately, or undefined when there is nothing to tell yet. */
export function paceOf(batch, now) {
  if (batch.status !== "RUNNING" || !batch.startedAt) return undefined;
  const done = finished(batch.counts);
  const list = samples.get(batch.id) ?? [];
  const first = list.find((sample) => now - sample.at <= WINDOW_MS) ?? list[0];
  if (first && now - first.at >= MIN_SPAN_MS && done > first.done) return (done - first.done) / ((now - first.at) / 1_000);
  const elapsed = (now - Date.parse(batch.startedAt)) / 1_000;
  return done > 0 && elapsed > 0 ? done / elapsed : undefined;
}

/** Seconds until the batch's remaining tasks are done at `pace`. */
export function etaOf(batch, pace) {
  return pace ? (batch.counts.total - finished(batch.counts)) / pace : undefined;
}
