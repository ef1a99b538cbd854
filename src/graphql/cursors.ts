// cursors.ts: how connections page: page sizes, the checks on first/last, and cursors that mean
// nothing outside the tenant that got them (a task's index within its batch; a batch's own id).
import { isUuid } from "../batches/rows.ts";
import { clientError, ErrorCode } from "../errors.ts";

export interface PageSize {
  defaultSize: number;
  maxSize: number;
}

// Larger `first`/`last` are capped to maxSize; the cost model (operationCost.ts) counts them capped.
export const TASK_PAGE: PageSize = { defaultSize: 20, maxSize: 1_000 };
export const BATCH_PAGE: PageSize = { defaultSize: 20, maxSize: 100 };

/** Task indexes are PostgreSQL integers. */
const MAX_INDEX = 2 ** 31 - 1;

export interface PageArgs {
  first?: number | null;
  last?: number | null;
}

/** A negative page size is the client's mistake (Pothos would throw an error without a code). */
export function checkPageArgs(args: PageArgs): void {
  for (const name of ["first", "last"] as const) {
    const value = args[name];
    if (value != null && value < 0) throw clientError(ErrorCode.BAD_USER_INPUT, `${name} must be 0 or more`);
  }
}

function invalidCursor(name: string): never {
  throw clientError(ErrorCode.BAD_USER_INPUT, `${name} is not a cursor this API returned`);
}

export function taskCursor(index: number): string {
  return String(index);
}

/** A task's index from its cursor; anything this API cannot have returned is BAD_USER_INPUT. */
export function parseTaskCursor(cursor: string | undefined, name: string): number | null {
  if (cursor === undefined) return null;
  if (!/^(0|[1-9]\d{0,9})$/.test(cursor)) invalidCursor(name);
  const index = Number(cursor);
  if (index > MAX_INDEX) invalidCursor(name);
  return index;
}

/**
 * A batch's cursor is its id: the caller sees the id anyway, and paging looks the batch's place
 * up within the caller's own batches, so a cursor counts nothing and works for no other tenant.
 */
export function batchCursor(id: string): string {
  return id;
}

/** The batch id in a cursor, before it is looked up among the caller's batches. */
export function parseBatchCursor(cursor: string | undefined, name: string): string | null {
  if (cursor === undefined) return null;
  if (!isUuid(cursor)) invalidCursor(name);
  return cursor.toLowerCase();
}

/** For a cursor that named no batch of the caller's (unknown, deleted, or another tenant's). */
export function unknownBatchCursor(name: string): never {
  invalidCursor(name);
}
