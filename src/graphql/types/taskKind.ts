// taskKind.ts: the taskKinds query, the registered kinds with input JSON Schema and policy.
import { z } from "zod";
import type { AnyTaskKind, TaskPolicy } from "../../worker/kind.ts";
import { builder } from "../builder.ts";
import { listCost } from "../cost.ts";

const TaskPolicyRef = builder.objectRef<TaskPolicy>("TaskPolicy").implement({
  description: "How a kind's tasks are run and retried.",
  fields: (t) => ({
    timeoutSeconds: t.exposeInt("timeoutSeconds"),
    retryLimit: t.exposeInt("retryLimit", { description: "Retries after the first attempt." }),
    retryDelaySeconds: t.exposeInt("retryDelaySeconds"),
    retryBackoff: t.exposeBoolean("retryBackoff", { description: "Whether the delay doubles (with jitter) per retry." }),
    retryDelayMaxSeconds: t.exposeInt("retryDelayMaxSeconds", { nullable: true }),
    concurrency: t.exposeInt("concurrency", { description: "Tasks of this kind run at once per worker process." }),
    batchSize: t.exposeInt("batchSize", { description: "Jobs fetched at once per worker loop." }),
  }),
});

const TaskKindRef = builder.objectRef<AnyTaskKind>("TaskKind").implement({
  description: "A registered task kind: its name, input schema and policy.",
  fields: (t) => ({
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    inputSchema: t.field({
      type: "JSON",
      description: "The JSON Schema every task input of this kind is validated against at submit.",
      resolve: (kind) => z.toJSONSchema(kind.input, { io: "input", unrepresentable: "any" }),
    }),
    policy: t.field({ type: TaskPolicyRef, resolve: (kind) => kind.policy }),
  }),
});

builder.queryField("taskKinds", (t) =>
  t.field({
    type: [TaskKindRef],
    // Counted as a deployment with many kinds; the list is read from memory.
    extensions: listCost(100),
    description: "The task kinds this deployment runs.",
    resolve: (_, __, { services }) => services.kinds.all(),
  }),
);
