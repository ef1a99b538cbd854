// listBatches.ts: an owner's batches, newest first, keyset-paged by seq. seq orders the rows and
// never leaves the database: a page starts from a batch the caller names by id.
import type { Pool } from "../../db/pool.ts";
import type { BatchRow, BatchStatus } from "../rows.ts";

export interface ListBatchesArgs {
  owner: string;
  status: BatchStatus | null;
  /** Keyset bounds on seq (exclusive), found by batchPlace. */
  beforeSeq: number | null;
  afterSeq: number | null;
  limit: number;
  /** Oldest first instead of newest first (for `last`/`before`). */
  ascending: boolean;
}

export async function listBatches(pool: Pool, args: ListBatchesArgs): Promise<BatchRow[]> {
  const { rows } = await pool.query<BatchRow>(
    `select * from batch
     where owner = $1
       and ($2::text is null or status = $2)
       and ($3::bigint is null or seq < $3)
       and ($4::bigint is null or seq > $4)
     order by seq ${args.ascending ? "asc" : "desc"}
     limit $5`,
    [args.owner, args.status, args.beforeSeq, args.afterSeq, args.limit],
  );
  return rows;
}

/** Where a batch of this owner's sits in the order; undefined for any other id. */
export async function batchPlace(pool: Pool, owner: string, id: string): Promise<number | undefined> {
  const { rows } = await pool.query<{ seq: string }>(`select seq from batch where owner = $1 and id = $2`, [owner, id]);
  return rows[0] ? Number(rows[0].seq) : undefined;
}

export async function countBatches(pool: Pool, owner: string, status: BatchStatus | null): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `select count(*) as count from batch where owner = $1 and ($2::text is null or status = $2)`,
    [owner, status],
  );
  return rows[0]?.count ?? 0;
}
