// batches.ts: the GraphQL operations tests use, and direct reads of the tables to check them.
import type pg from "pg";
import { gql, gqlOk, waitFor, type GraphQLResponse } from "./server.ts";

export const BATCH_FIELDS = `id status progress version createdAt startedAt finishedAt metadata priority
  counts { total queued running retrying succeeded failed canceled expired } purgeAt expiresAt`;

export interface BatchView {
  id: string;
  status: string;
  progress: number;
  version: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  metadata: unknown;
  priority: number;
  purgeAt: string | null;
  expiresAt: string | null;
  counts: { total: number; queued: number; running: number; retrying: number; succeeded: number; failed: number; canceled: number; expired: number };
}

export interface TaskInput {
  kind: string;
  input: unknown;
  customId?: string;
}

export const SUBMIT = `mutation Submit($input: SubmitBatchInput!) {
  submitBatch(input: $input) { batch { ${BATCH_FIELDS} } }
}`;

export function submit(url: string, input: Record<string, unknown>): Promise<GraphQLResponse<{ submitBatch: { batch: BatchView } }>> {
  return gql(url, SUBMIT, { input });
}

export async function submitOk(url: string, input: Record<string, unknown>): Promise<BatchView> {
  return (await gqlOk<{ submitBatch: { batch: BatchView } }>(url, SUBMIT, { input })).submitBatch.batch;
}

export async function getBatch(url: string, id: string): Promise<BatchView | null> {
  return (await gqlOk<{ batch: BatchView | null }>(url, `query($id: ID!) { batch(id: $id) { ${BATCH_FIELDS} } }`, { id })).batch;
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
export async function expectCountersMatchRows(pool: pg.Pool, batch: BatchView): Promise<void> {
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
