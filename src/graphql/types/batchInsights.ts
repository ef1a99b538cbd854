// batchInsights.ts: Batch fields for a batch's page: its failures grouped by error, and how its
// tasks finished over time. Each is one grouped statement, bounded by its argument.
import { errorGroups, type ErrorGroup } from "../../batches/sql/errorGroups.ts";
import { finishedOverTime, type FinishedSlice } from "../../batches/sql/finishedOverTime.ts";
import { clientError, ErrorCode } from "../../errors.ts";
import { builder } from "../builder.ts";
import { PAGE_READ_COST, pageCost } from "../cost.ts";
import { BatchRef } from "./batch.ts";

const MAX_GROUPS = 100;
const MAX_SLICES = 500;

function bounded(value: number, name: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw clientError(ErrorCode.BAD_USER_INPUT, `${name} must be between 1 and ${max}`);
  return value;
}

const TaskErrorGroupRef = builder.objectRef<ErrorGroup>("TaskErrorGroup").implement({
  description: "FAILED tasks of one batch that share an error code and message.",
  fields: (t) => ({
    code: t.exposeString("code"),
    message: t.exposeString("message", { description: "The message's first 1,000 characters (tasks are grouped by those)." }),
    count: t.exposeInt("count"),
    firstIndex: t.exposeInt("firstIndex", { description: "The lowest task index in the group." }),
  }),
});

const FinishedSliceRef = builder.objectRef<FinishedSlice>("FinishedSlice").implement({
  description: "How many of a batch's tasks reached a final status within one slice of time.",
  fields: (t) => ({
    start: t.field({ type: "DateTime", resolve: (slice) => slice.start }),
    end: t.field({ type: "DateTime", resolve: (slice) => slice.end }),
    finished: t.exposeInt("finished", { description: "Tasks that became SUCCEEDED, FAILED, CANCELED or EXPIRED in the slice." }),
    failed: t.exposeInt("failed", { description: "Of those, the FAILED ones." }),
  }),
});

builder.objectFields(BatchRef, (t) => ({
  errorGroups: t.field({
    type: [TaskErrorGroupRef],
    description: `The batch's FAILED tasks grouped by error code and message, largest group first (at most \`first\`, up to ${MAX_GROUPS}).`,
    args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
    extensions: pageCost({ defaultSize: 20, maxSize: MAX_GROUPS }),
    resolve: (batch, args, { services }) =>
      batch.failed === 0 ? [] : errorGroups(services.pool, batch.id, bounded(args.first ?? 20, "first", MAX_GROUPS)),
  }),
  finishedOverTime: t.field({
    type: [FinishedSliceRef],
    description:
      `Tasks finished per slice of time, from the batch's start (or creation) to its end (or now), in \`slices\` equal slices (up to ${MAX_SLICES}). ` +
      "Reads every finished task of the batch: ask for it once, then follow changes with jobProgress.",
    args: { slices: t.arg.int({ required: false, defaultValue: 60 }) },
    // A scan of the batch's finished tasks (up to MAX_TASKS_PER_BATCH rows): ten page reads' worth.
    extensions: pageCost({ defaultSize: 60, maxSize: MAX_SLICES }, { sizeArg: "slices", read: 10 * PAGE_READ_COST }),
    resolve: (batch, args, { services }) =>
      finishedOverTime(services.pool, batch.id, batch.started_at ?? batch.created_at, batch.finished_at ?? new Date(), bounded(args.slices ?? 60, "slices", MAX_SLICES)),
  }),
}));
