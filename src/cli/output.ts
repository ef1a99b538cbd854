// output.ts: what the CLI prints for a batch and for an error, and the exit codes.
import { BatchwireError, type Batch } from "../client/index.ts";

export const ExitCode = {
  /** Done; a waited batch completed with no failed, canceled or expired task. */
  OK: 0,
  /** Any error (one line on stderr). */
  ERROR: 1,
  /** A waited batch finished with failed, canceled or expired tasks. */
  UNSUCCESSFUL: 2,
} as const;

/** A mistake in how the command was called; printed like any other error. */
export class UsageError extends Error {}

type Counts = Pick<Batch["counts"], "total" | "succeeded" | "failed" | "canceled" | "expired">;
type FinalBatch = { status: Batch["status"]; counts: Counts };

export function finished(counts: Counts): number {
  return counts.succeeded + counts.failed + counts.canceled + counts.expired;
}

export function exitCodeOf(batch: FinalBatch): number {
  const { failed, canceled, expired } = batch.counts;
  return batch.status === "COMPLETED" && failed + canceled + expired === 0 ? ExitCode.OK : ExitCode.UNSUCCESSFUL;
}

export function batchLine(batch: Batch): string {
  const { counts } = batch;
  return `${batch.id}\t${batch.status}\t${finished(counts)}/${counts.total}\tsucceeded ${counts.succeeded}\tfailed ${counts.failed}\t${batch.createdAt}`;
}

/** The one stderr line an error gets: what went wrong and, for a file, on which line. */
export function errorLine(error: unknown): string {
  if (error instanceof BatchwireError) {
    const [first] = error.taskErrors;
    if (first) {
      const where = first.line !== undefined ? `line ${first.line}` : `task ${first.index}`;
      const more = error.taskErrors.length > 1 || error.taskErrorsTruncated ? ` (${error.taskErrorsTruncated ? "over " : ""}${error.taskErrors.length} bad in all)` : "";
      return `${where}: ${first.message}${more}`;
    }
    if (error.code === "UNAUTHENTICATED") return `${error.message} (set BATCHWIRE_KEY or --key)`;
    return error.code === "CONNECTION_FAILED" ? error.message : `${error.message} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}
