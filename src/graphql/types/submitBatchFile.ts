// submitBatchFile.ts: the File scalar and the submitBatchFile mutation (a JSONL file of tasks).
import { GraphQLError } from "graphql";
import { submitBatchFile, type UploadedFile } from "../../batches/submitFile.ts";
import { builder } from "../builder.ts";
import { batchOptionFields, SubmitBatchPayload } from "./submitBatch.ts";

function isUploadedFile(value: unknown): value is UploadedFile {
  return typeof value === "object" && value !== null && typeof (value as { stream?: unknown }).stream === "function";
}

const FileScalar = builder.scalarType("File", {
  description: "A file sent as a part of a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec).",
  serialize: () => {
    throw new GraphQLError("File is an input type only");
  },
  parseValue: (value) => {
    if (!isUploadedFile(value)) throw new GraphQLError("File must be sent as a file part of a multipart request");
    return value;
  },
  parseLiteral: () => {
    throw new GraphQLError("File must be sent as a file part of a multipart request, not written in the query");
  },
});

const SubmitBatchFileInput = builder.inputType("SubmitBatchFileInput", {
  fields: (t) => ({
    file: t.field({
      type: FileScalar,
      required: true,
      description: 'JSONL: one task a line, { "customId"?, "kind"?, "input" }; blank lines are skipped.',
    }),
    kind: t.string({ required: false, description: "The kind of the lines that name none." }),
    ...batchOptionFields(t),
  }),
});

builder.mutationField("submitBatchFile", (t) =>
  t.field({
    type: SubmitBatchPayload,
    description:
      "Stores a batch from a JSONL file, read as it arrives, with all of its tasks queued, or nothing (errors name each bad line and its task index).",
    args: { input: t.arg({ type: SubmitBatchFileInput, required: true }) },
    resolve: async (_, { input }, { services, tenant }) => ({
      batch: await submitBatchFile(services, tenant, input),
    }),
  }),
);
