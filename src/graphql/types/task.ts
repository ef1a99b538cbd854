// task.ts: the Task type, its status enum and its error.
import { TaskStatus, type TaskRow } from "../../batches/rows.ts";
import { builder } from "../builder.ts";

export const TaskStatusEnum = builder.enumType("TaskStatus", { values: Object.values(TaskStatus) });

const TaskErrorInfo = builder.objectRef<{ message: string; code: string }>("TaskError").implement({
  description: "Why the task's latest attempt failed.",
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.exposeString("code", { description: "TIMEOUT, HANDLER_ERROR, or a code the handler chose." }),
  }),
});

export const TaskRef = builder.objectRef<TaskRow>("Task").implement({
  description: "One item of a batch: an input for a task kind, and what running it produced.",
  fields: (t) => ({
    id: t.exposeID("id"),
    batchId: t.exposeID("batch_id"),
    index: t.exposeInt("index", { description: "Position in the submitted task list, from 0." }),
    customId: t.exposeString("custom_id", { nullable: true }),
    kind: t.exposeString("kind"),
    status: t.field({ type: TaskStatusEnum, resolve: (task) => task.status }),
    attempts: t.exposeInt("attempts", { description: "Attempts started so far." }),
    input: t.field({ type: "JSON", resolve: (task) => task.input }),
    result: t.field({ type: "JSON", nullable: true, resolve: (task) => task.result }),
    error: t.field({ type: TaskErrorInfo, nullable: true, resolve: (task) => task.error }),
    progress: t.float({ nullable: true, resolve: (task) => task.progress, description: "The handler's reported progress, 0 to 1." }),
    createdAt: t.field({ type: "DateTime", resolve: (task) => task.created_at }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (task) => task.started_at }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (task) => task.finished_at }),
    updatedAt: t.field({ type: "DateTime", resolve: (task) => task.updated_at }),
  }),
});
