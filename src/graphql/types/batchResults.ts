// batchResults.ts: Batch.resultsUrl, where a batch's results are downloaded as JSONL.
import { resultsPath } from "../../server/results.ts";
import { builder } from "../builder.ts";
import { BatchRef } from "./batch.ts";

builder.objectField(BatchRef, "resultsUrl", (t) =>
  t.string({
    description: "The path (on this server) of GET /batches/{id}/results.jsonl: one line per task, in index order; send the same Authorization.",
    resolve: (batch) => resultsPath(batch.id),
  }),
);
