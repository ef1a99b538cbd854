// batches.ts: batches through the typed client (src/client), and direct reads of the tables to check them.
import { print } from "graphql";
import type pg from "pg";
import { createClient, type Batch, type SubmitOptions } from "../../src/client/index.ts";
import { SubmitBatchDocument } from "../../src/client/generated.ts";
import { gql, waitFor, type GraphQLResponse } from "./server.ts";

export const BATCH_FIELDS = `id status progress version createdAt startedAt finishedAt metadata priority
  counts { total queued running retrying succeeded failed canceled expired } purgeAt expiresAt`;

export type BatchView = Batch;

export interface TaskInput {
  kind: string;
  input: unknown;
  customId?: string;
}

/** submitBatch as the typed client sends it. */
export const SUBMIT = print(SubmitBatchDocument);

/** submitBatch's response as it came over the wire (status, data, errors), for tests of errors. */
export function submit(url: string, input: Record<string, unknown>): Promise<GraphQLResponse<{ submitBatch: { batch: BatchView } }>> {
  return gql(url, SUBMIT, { input });
}

export async function submitOk(url: string, input: Record<string, unknown>): Promise<BatchView> {
  const { tasks, ...options } = input as { tasks: TaskInput[] } & SubmitOptions;
  return createClient({ url }).submit(tasks, options);
}

export async function getBatch(url: string, id: string): Promise<BatchView | null> {
  return createClient({ url }).batch(id);
}

const FINAL = new Set(["COMPLETED", "CANCELED", "EXPIRED"]);

export async function waitForFinal(url: string, id: string, timeoutMs = 60_000): Promise<BatchView> {
  return waitFor(
    async () => {
      const batch = await getBatch(url, id);
      return batch && FINAL.has(batch.status) ? batch : undefined;
    },
    timeoutMs,
    `batch ${id} to finish`,
  );
}

/** count(*) of a batch's tasks by status, straight from the table. */
export async function countTasksByStatus(pool: pg.Pool, batchId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: string }>(
    `select status, count(*) as n from task where batch_id = $1 group by status`,
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** The batch's counters must equal count(*) by status of its tasks. */
export async function expectCountersMatchRows(pool: pg.Pool, batch: Pick<BatchView, "id" | "counts">): Promise<void> {
  const counted = await countTasksByStatus(pool, batch.id);
  const expected = {
    queued: counted.QUEUED ?? 0,
    running: counted.RUNNING ?? 0,
    retrying: counted.RETRYING ?? 0,
    succeeded: counted.SUCCEEDED ?? 0,
    failed: counted.FAILED ?? 0,
    canceled: counted.CANCELED ?? 0,
    expired: counted.EXPIRED ?? 0,
  };
  const { total: _total, ...counters } = batch.counts;
  if (JSON.stringify(counters) !== JSON.stringify(expected)) {
    throw new Error(`counters ${JSON.stringify(counters)} differ from count(*) ${JSON.stringify(expected)}`);
  }
}
