// follow.ts: follows a batch over jobProgress to its end: a live progress bar on a terminal, else
// one plain line per change (at most PLAIN_LINES_PER_SECOND), then a summary.
import { Presets, SingleBar } from "cli-progress";
import type { Batch, BatchwireClient, JobProgressEvent } from "../client/index.ts";
import { finished } from "./output.ts";

type Snapshot = JobProgressEvent["batch"];

const PLAIN_INTERVAL_MS = 500; // two lines a second at most

export interface FollowOptions {
  /** Draw a bar (stdout is a terminal and --json is off). */
  bar: boolean;
  json: boolean;
}

/** Tasks finished per second since following began, and seconds left at that rate. */
function pace(first: { at: number; done: number }, batch: Snapshot): { rate: number; eta: number | null } {
  const seconds = (Date.now() - first.at) / 1000;
  const rate = seconds > 0 ? (finished(batch.counts) - first.done) / seconds : 0;
  const left = batch.counts.total - finished(batch.counts);
  return { rate, eta: rate > 0 ? left / rate : null };
}

function plainLine(batch: Snapshot, rate: number, eta: number | null): string {
  const { counts } = batch;
  const percent = Math.floor(batch.progress * 100);
  return `${batch.status} ${finished(counts)}/${counts.total} ${percent}% succeeded ${counts.succeeded} failed ${counts.failed} running ${counts.running} ${rate.toFixed(1)}/s ETA ${eta === null ? "?" : `${Math.ceil(eta)}s`}`;
}

function jsonLine(batch: Snapshot, rate: number, eta: number | null): string {
  const { counts } = batch;
  return JSON.stringify({ id: batch.id, status: batch.status, done: finished(counts), ...counts, rate, eta });
}

export function summary(batch: Pick<Batch, "id" | "status" | "counts">, seconds: number): string {
  const { counts } = batch;
  return (
    `${batch.status} in ${seconds.toFixed(1)}s: ${counts.succeeded} succeeded, ${counts.failed} failed, ` +
    `${counts.canceled} canceled, ${counts.expired} expired of ${counts.total}`
  );
}

/** Resolves with the final snapshot once the server has completed the stream. */
export async function follow(client: BatchwireClient, batchId: string, options: FollowOptions): Promise<Snapshot> {
  let first: { at: number; done: number } | undefined;
  let last: Snapshot | undefined;
  const bar = options.bar
    ? new SingleBar(
        {
          format: "{bar} {percentage}% | {value}/{total} | succeeded {succeeded} failed {failed} running {running} | {rate}/s | ETA {eta_formatted}",
          stream: process.stdout,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        Presets.shades_classic,
      )
    : undefined;
  let printedAt = 0;
  let printed: Snapshot | undefined;
  let timer: NodeJS.Timeout | undefined;
  const print = () => {
    timer = undefined;
    if (!last || last === printed) return;
    const { rate, eta } = pace(first!, last);
    process.stdout.write(`${options.json ? jsonLine(last, rate, eta) : plainLine(last, rate, eta)}\n`);
    printed = last;
    printedAt = Date.now();
  };
  try {
    for await (const event of client.watch(batchId, { withTasks: false })) {
      const batch = event.batch;
      first ??= { at: Date.now(), done: finished(batch.counts) };
      last = batch;
      if (bar) {
        const { rate } = pace(first, batch);
        const payload = { succeeded: batch.counts.succeeded, failed: batch.counts.failed, running: batch.counts.running, rate: rate.toFixed(1) };
        if (!bar.isActive) bar.start(batch.counts.total, finished(batch.counts), payload);
        else bar.update(finished(batch.counts), payload);
      } else if (!timer) {
        timer = setTimeout(print, Math.max(0, printedAt + PLAIN_INTERVAL_MS - Date.now()));
      }
    }
  } finally {
    clearTimeout(timer);
    bar?.stop();
  }
  if (!last) throw new Error(`the progress of batch ${batchId} ended without an event`);
  if (!bar) print();
  return last;
}
