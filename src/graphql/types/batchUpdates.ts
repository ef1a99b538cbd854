// batchUpdates.ts: the batchUpdates subscription, the tenant-wide feed behind list pages.
import { clientError, ErrorCode } from "../../errors.ts";
import { FELL_BEHIND, type BatchUpdateEvent } from "../../events/tenantFeed.ts";
import { builder } from "../builder.ts";
import { BatchRef, BatchStatusEnum } from "./batch.ts";

const BatchUpdateEventRef = builder.objectRef<BatchUpdateEvent>("BatchUpdateEvent").implement({
  description: "One of the caller's batches as it is after a change, read after the change was committed.",
  fields: (t) => ({
    batch: t.field({ type: BatchRef, resolve: (event) => event.batch }),
  }),
});

builder.subscriptionField("batchUpdates", (t) =>
  t.field({
    type: BatchUpdateEventRef,
    description:
      "An event whenever one of the caller's batches is created or changes (progress, counts, status), with its " +
      "current state; at most one per batch per throttle interval (EVENTS_PER_SECOND). With `status`, only " +
      "events whose batch is in that status after the change. Never ends by itself.",
    args: { status: t.arg({ type: BatchStatusEnum, required: false }) },
    subscribe: (_, { status }, { services, tenant }) => services.batchUpdates.stream(tenant, status ?? null),
    resolve: (item) => {
      if (item === FELL_BEHIND) {
        throw clientError(ErrorCode.SUBSCRIBER_TOO_SLOW, "this subscriber read its events too slowly and missed some; subscribe again and re-read the batches");
      }
      return item;
    },
  }),
);
