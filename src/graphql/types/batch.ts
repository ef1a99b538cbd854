// batch.ts: the Batch type, its counts, and the batch / batches queries.
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from "@pothos/plugin-relay";
import { BatchStatus, type BatchRow, type TaskStatus } from "../../batches/rows.ts";
import { getBatch } from "../../batches/sql/getBatch.ts";
import { batchPlace, countBatches, listBatches } from "../../batches/sql/listBatches.ts";
import { countTasksWithCustomId, listTasks } from "../../batches/sql/listTasks.ts";
import { builder } from "../builder.ts";
import {
  BATCH_PAGE,
  batchCursor,
  checkPageArgs,
  parseBatchCursor,
  parseTaskCursor,
  TASK_PAGE,
  taskCursor,
  unknownBatchCursor,
} from "../cursors.ts";
import { pageCost } from "../cost.ts";
import { budgetFor, selectedBelow } from "../responseBudget.ts";
import { TaskRef, TaskStatusEnum } from "./task.ts";

export const BatchStatusEnum = builder.enumType("BatchStatus", { values: Object.values(BatchStatus) });

const BatchCounts = builder.objectRef<BatchRow>("BatchCounts").implement({
  description: "How many of the batch's tasks are in each status; the parts add up to total.",
  fields: (t) => ({
    total: t.exposeInt("total"),
    queued: t.exposeInt("queued"),
    running: t.exposeInt("running"),
    retrying: t.exposeInt("retrying", { description: "Failed an attempt and wait for the next one." }),
    succeeded: t.exposeInt("succeeded"),
    failed: t.exposeInt("failed"),
    canceled: t.exposeInt("canceled"),
    expired: t.exposeInt("expired", { description: "Not started before the batch's completion window closed." }),
  }),
});

/** The count of tasks in one status, read off the batch's counters (never a count(*)). */
function countFor(batch: BatchRow, status: TaskStatus | null | undefined): number {
  switch (status) {
    case null:
    case undefined:
      return batch.total;
    case "QUEUED":
      return batch.queued;
    case "RUNNING":
      return batch.running;
    case "RETRYING":
      return batch.retrying;
    case "SUCCEEDED":
      return batch.succeeded;
    case "FAILED":
      return batch.failed;
    case "CANCELED":
      return batch.canceled;
    case "EXPIRED":
      return batch.expired;
  }
}

export const BatchRef = builder.objectRef<BatchRow>("Batch").implement({
  description: "A submitted set of tasks, run in the background and tracked as one.",
  fields: (t) => ({
    id: t.exposeID("id"),
    status: t.field({ type: BatchStatusEnum, resolve: (batch) => batch.status }),
    counts: t.field({ type: BatchCounts, resolve: (batch) => batch }),
    progress: t.float({
      description: "Fraction of tasks in a final status (succeeded, failed, canceled or expired), 0 to 1.",
      resolve: (batch) => (batch.total === 0 ? 1 : (batch.succeeded + batch.failed + batch.canceled + batch.expired) / batch.total),
    }),
    priority: t.exposeInt("priority"),
    metadata: t.field({ type: "JSON", nullable: true, resolve: (batch) => batch.metadata }),
    idempotencyKey: t.exposeString("idempotency_key", { nullable: true }),
    version: t.exposeInt("version", { description: "Goes up with every change of status, counts or progress." }),
    createdAt: t.field({ type: "DateTime", resolve: (batch) => batch.created_at }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (batch) => batch.started_at }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (batch) => batch.finished_at }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the completion window closes: tasks not started by then end EXPIRED.",
      resolve: (batch) => batch.expires_at,
    }),
    purgeAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When this finished batch and its results will be deleted (retentionSeconds after it finished).",
      resolve: (batch) => batch.purge_at,
    }),
    tasks: t.connection({
      type: TaskRef,
      args: {
        status: t.arg({ type: TaskStatusEnum, required: false }),
        customId: t.arg.string({ required: false, description: "Only the task with exactly this customId." }),
      },
      extensions: pageCost(TASK_PAGE),
      resolve: async (batch, args, context, info) => {
        checkPageArgs(args);
        const customId = args.customId ?? null;
        const json = selectedBelow(info, ["input", "result"]);
        let cut = false;
        const connection = await resolveCursorConnection(
          { args, ...TASK_PAGE, toCursor: (task) => taskCursor(task.index) },
          async ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) => {
            const page = {
              batchId: batch.id,
              status: args.status ?? null,
              customId,
              afterIndex: parseTaskCursor(after, "after"),
              beforeIndex: parseTaskCursor(before, "before"),
              limit,
              descending: inverted,
            };
            if (json.size === 0) return (await listTasks(context.services.pool, page)).rows;
            const read = await budgetFor(context, info).spend(async (bytesLeft) => {
              const result = await listTasks(context.services.pool, page, { input: json.has("input"), result: json.has("result"), bytesLeft });
              return { value: result, bytes: result.bytes };
            });
            cut = read.cut;
            return read.rows;
          },
        );
        // A page cut short by MAX_RESPONSE_BYTES goes on where it stopped.
        if (cut) {
          if (args.last != null && args.first == null) connection.pageInfo.hasPreviousPage = true;
          else connection.pageInfo.hasNextPage = true;
        }
        const { pool } = context.services;
        const totalCount = customId === null ? countFor(batch, args.status) : () => countTasksWithCustomId(pool, batch.id, customId, args.status ?? null);
        return { ...connection, totalCount };
      },
    }, { name: "TaskConnection" }, { name: "TaskEdge" }),
  }),
});

builder.queryFields((t) => ({
  batch: t.field({
    type: BatchRef,
    nullable: true,
    description: "A batch by id; null when there is none (or it belongs to another tenant).",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, { services, tenant }) => (await getBatch(services.pool, tenant, String(id))) ?? null,
  }),
  batches: t.connection({
    type: BatchRef,
    description: "The caller's batches, newest first.",
    args: { status: t.arg({ type: BatchStatusEnum, required: false }) },
    extensions: pageCost(BATCH_PAGE),
    resolve: async (_, args, { services, tenant }) => {
      checkPageArgs(args);
      const status = args.status ?? null;
      const place = async (cursor: string | undefined, name: string) => {
        const id = parseBatchCursor(cursor, name);
        if (id === null) return null;
        return (await batchPlace(services.pool, tenant, id)) ?? unknownBatchCursor(name);
      };
      const connection = await resolveCursorConnection(
        { args, ...BATCH_PAGE, toCursor: (batch) => batchCursor(batch.id) },
        async ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
          // Newest first: "after" a cursor means older, a smaller seq.
          listBatches(services.pool, {
            owner: tenant,
            status,
            beforeSeq: await place(after, "after"),
            afterSeq: await place(before, "before"),
            limit,
            ascending: inverted,
          }),
      );
      return { ...connection, totalCount: () => countBatches(services.pool, tenant, status) };
    },
  }, { name: "BatchConnection" }, { name: "BatchEdge" }),
}));
