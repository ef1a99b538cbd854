// schema.ts: assembles the schema from one file per type, and prints it sorted for schema.graphql.
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { builder } from "./builder.ts";
import "./types/task.ts";
import "./types/batch.ts";
import "./types/batchInsights.ts";
import "./types/taskKind.ts";
import "./types/submitBatch.ts";
import "./types/submitBatchFile.ts";
import "./types/batchResults.ts";
import "./types/lifecycle.ts";
import "./types/jobProgress.ts";
import "./types/webhooks.ts";
import "./types/webhookDeliveries.ts";
import "./types/batchUpdates.ts";

export const schema: GraphQLSchema = builder.toSchema();

export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
