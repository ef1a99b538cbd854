// submitBatch.ts: the submitBatch mutation, its input and payload.
import type { BatchRow } from "../../batches/rows.ts";
import { submitBatch } from "../../batches/submit.ts";
import { builder, type Types } from "../builder.ts";
import { BatchRef } from "./batch.ts";

const TaskInput = builder.inputType("TaskInput", {
  fields: (t) => ({
    kind: t.string({ required: true, description: "A name from taskKinds." }),
    input: t.field({ type: "JSON", required: true, description: "Validated against the kind's inputSchema." }),
    customId: t.string({ required: false, description: "Your id for this item, unique within the batch." }),
  }),
});

/** The options submitBatch and submitBatchFile share. */
export function batchOptionFields(t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">) {
  return {
    idempotencyKey: t.string({
      required: false,
      description: "Submitting again with the same key and request returns the first batch; a different request is IDEMPOTENCY_CONFLICT.",
    }),
    priority: t.int({ required: false, description: "Higher runs first; default 0." }),
    metadata: t.field({ type: "JSON", required: false, description: "Stored with the batch, returned as given." }),
    completionWindowSeconds: t.int({
      required: false,
      description: "Tasks not started within this many seconds end EXPIRED (default 24 hours, at most 7 days).",
    }),
    retentionSeconds: t.int({
      required: false,
      description: "How long the batch and its results are kept after it finishes (default 7 days).",
    }),
  };
}

const SubmitBatchInput = builder.inputType("SubmitBatchInput", {
  fields: (t) => ({
    tasks: t.field({ type: [TaskInput], required: true }),
    ...batchOptionFields(t),
  }),
});

export const SubmitBatchPayload = builder.objectRef<{ batch: BatchRow }>("SubmitBatchPayload").implement({
  fields: (t) => ({
    batch: t.field({ type: BatchRef, resolve: (payload) => payload.batch }),
  }),
});

builder.mutationField("submitBatch", (t) =>
  t.field({
    type: SubmitBatchPayload,
    description: "Stores a batch with all of its tasks queued, or nothing (errors name the task index).",
    args: { input: t.arg({ type: SubmitBatchInput, required: true }) },
    resolve: async (_, { input }, { services, tenant }) => ({
      batch: await submitBatch(services, tenant, input),
    }),
  }),
);
