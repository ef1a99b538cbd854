// results.ts: GET /batches/{id}/results.jsonl: one JSON line per task of a batch, in index order,
// read from the database a page at a time as the client takes them.
//
// Pages by index, not a cursor: a cursor holds a pooled connection and a snapshot for as long as
// its client reads, so a few paused downloads would take the pool and hold back vacuum. A page is
// read only once the socket has taken the one before (backpressure), so a slow reader holds one
// page in memory and no connection.
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { GraphQLError } from "graphql";
import type { Authenticator } from "../auth/authenticator.ts";
import { TaskStatus } from "../batches/rows.ts";
import { getBatch } from "../batches/sql/getBatch.ts";
import { resultPage, type ResultRow } from "../batches/sql/resultPage.ts";
import type { Pool } from "../db/pool.ts";
import { ErrorCode } from "../errors.ts";
import type { Logger } from "../logger.ts";

export function resultsPath(batchId: string): string {
  return `/batches/${batchId}/results.jsonl`;
}

const ROUTE = /^\/batches\/([^/]+)\/results\.jsonl$/;
/** Rows per query: results can be large, and a page is what a slow reader makes us hold. */
const PAGE_ROWS = 200;
const STATUSES = new Set<string>(Object.values(TaskStatus));

export interface ResultsRouteOptions {
  pool: Pool;
  auth: Authenticator;
  log: Logger;
}

/** A result line, keys in the documented order. */
function line(row: ResultRow): string {
  const { index, custom_id: customId, kind, status, attempts, result, error } = row;
  return `${JSON.stringify({ index, customId, kind, status, attempts, result: result ?? null, error })}\n`;
}

async function* lines(pool: Pool, batchId: string, status: TaskStatus | null): AsyncGenerator<string> {
  let after = -1;
  for (;;) {
    const rows = await resultPage(pool, batchId, status, after, PAGE_ROWS);
    if (rows.length > 0) yield rows.map(line).join("");
    if (rows.length < PAGE_ROWS) return;
    after = rows.at(-1)!.index;
  }
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/** Handles the request and returns true when its path is a results download; false leaves it to others. */
export function createResultsRoute({ pool, auth, log }: ResultsRouteOptions) {
  async function serve(req: IncomingMessage, res: ServerResponse, batchId: string, query: URLSearchParams): Promise<void> {
    if (req.method !== "GET") return sendError(res, 405, "METHOD_NOT_ALLOWED", "results are read with GET", { allow: "GET" });
    let tenant: string;
    try {
      tenant = (await auth.authenticate(req.headers.authorization)).tenant;
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const http = error.extensions.http as { status: number; headers: Record<string, string> };
      return sendError(res, http.status, String(error.extensions.code), error.message, http.headers);
    }
    const status = query.get("status");
    if (status !== null && !STATUSES.has(status)) {
      return sendError(res, 400, ErrorCode.BAD_USER_INPUT, `status must be one of ${[...STATUSES].join(", ")}`);
    }
    // An unknown id and another tenant's get the same answer.
    const batch = await getBatch(pool, tenant, batchId);
    if (!batch) return sendError(res, 404, ErrorCode.NOT_FOUND, `batch ${batchId} not found`);
    res.writeHead(200, {
      "content-type": "application/jsonl; charset=utf-8",
      "content-disposition": `attachment; filename="${batch.id}.jsonl"`,
      "cache-control": "no-store",
    });
    // pipeline writes a page, waits for "drain" when the socket is full, and stops reading pages
    // when the client goes away.
    await pipeline(lines(pool, batch.id, status as TaskStatus | null), res);
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = ROUTE.exec(url.pathname);
    if (!match) return false;
    const batchId = match[1]!;
    serve(req, res, batchId, url.searchParams).catch((error: unknown) => {
      const gone = res.destroyed || (error as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE";
      if (!gone) log.warn({ err: error, batchId }, "results download failed");
      if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "Unexpected error.");
      else res.destroy();
    });
    return true;
  };
}
