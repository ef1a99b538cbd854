// jobProgress.ts: the jobProgress subscription and its event type.
import { getBatch } from "../../batches/sql/getBatch.ts";
import { notFound } from "../../errors.ts";
import type { ProgressEvent } from "../../events/progressStream.ts";
import { builder } from "../builder.ts";
import { listCost } from "../cost.ts";
import { BatchRef } from "./batch.ts";
import { TaskRef } from "./task.ts";

const JobProgressEvent = builder.objectRef<ProgressEvent>("JobProgressEvent").implement({
  description: "A snapshot of a batch, read after the change it reports was committed.",
  fields: (t) => ({
    batch: t.field({ type: BatchRef, resolve: (event) => event.batch }),
    changedTasks: t.field({
      type: [TaskRef],
      // The event hub reads at most 100 changed tasks per batch and event (hub.ts, taskLimit).
      extensions: listCost(100),
      description: "Tasks whose status or progress changed since this subscriber's previous event (empty in the first).",
      resolve: (event) => event.changedTasks,
    }),
    changedTasksTruncated: t.exposeBoolean("changedTasksTruncated", {
      description: "More tasks changed than changedTasks holds; read batch.tasks for the rest.",
    }),
  }),
});

builder.subscriptionField("jobProgress", (t) =>
  t.field({
    type: JobProgressEvent,
    description: "The batch's current state, then every newer state (throttled), then the final one; then the stream completes.",
    args: { batchId: t.arg.id({ required: true }) },
    subscribe: async (_, { batchId }, { services, tenant }) => {
      const snapshot = await getBatch(services.pool, tenant, String(batchId));
      if (!snapshot) throw notFound("batch", String(batchId));
      return services.progress.stream(snapshot);
    },
    resolve: (event) => event,
  }),
);
