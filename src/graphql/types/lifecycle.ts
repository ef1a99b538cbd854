// lifecycle.ts: the cancelBatch and retryFailedTasks mutations.
import { cancelBatch } from "../../batches/cancel.ts";
import { retryFailedTasks } from "../../batches/retryFailed.ts";
import type { BatchRow } from "../../batches/rows.ts";
import { builder } from "../builder.ts";
import { BatchRef } from "./batch.ts";

const CancelBatchPayload = builder.objectRef<{ batch: BatchRow }>("CancelBatchPayload").implement({
  fields: (t) => ({ batch: t.field({ type: BatchRef, resolve: (payload) => payload.batch }) }),
});

const RetryFailedTasksPayload = builder.objectRef<{ batch: BatchRow }>("RetryFailedTasksPayload").implement({
  fields: (t) => ({ batch: t.field({ type: BatchRef, resolve: (payload) => payload.batch }) }),
});

builder.mutationFields((t) => ({
  cancelBatch: t.field({
    type: CancelBatchPayload,
    description:
      "Tasks not started end CANCELED at once; running ones are aborted and end CANCELED unless they finish first. " +
      "The batch goes CANCELING, then CANCELED. Cancelling a finished batch returns it unchanged.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, { services, tenant }) => ({ batch: await cancelBatch(services, tenant, String(id)) }),
  }),
  retryFailedTasks: t.field({
    type: RetryFailedTasksPayload,
    description: "Queues the batch's FAILED tasks again (attempts keep counting); the batch runs and finishes again.",
    args: { batchId: t.arg.id({ required: true }) },
    resolve: async (_, { batchId }, { services, tenant }) => ({ batch: await retryFailedTasks(services, tenant, String(batchId)) }),
  }),
}));
