// cost.ts: the cost model of an operation, the number of values it can produce, with page sizes
// as the request gives them (literals, variables or defaults). Each field costs 1; a connection
// or list multiplies what is below it by the most items it can hold. Fields declare their own
// multiplier in their extensions; server/operationCost.ts applies the limit. A connection is also
// one query to the database whatever its page size, so it costs PAGE_READ_COST on top (at most
// 100 page reads per operation by default): without
// it, 15 aliases of 100 batches with an empty page of tasks each cost almost nothing and still
// made 1,500 queries (3.5 s on a 2-core machine).
//
// (graphql-query-complexity walks the operation with the variables' values and defaults.)
import type { ComplexityEstimator } from "graphql-query-complexity";
import type { PageSize } from "./cursors.ts";

interface CostExtension {
  /** A connection: first/last (capped at maxSize), or defaultSize when neither is given. */
  page?: PageSize;
  /** The argument that sizes the page instead of first/last. */
  sizeArg?: string;
  /** What the read costs beside its items, when more than PAGE_READ_COST. */
  read?: number;
  /** A list of at most this many items. */
  listSize?: number;
}

/** What one page read costs beside its items: a database round trip. */
export const PAGE_READ_COST = 250;

export function pageCost(page: PageSize, options: { sizeArg?: string; read?: number } = {}): { cost: CostExtension } {
  return { cost: { page, ...options } };
}

export function listCost(listSize: number): { cost: CostExtension } {
  return { cost: { listSize } };
}

/** The most items a connection returns for these arguments, as its resolver caps them. */
export function itemsOf(page: PageSize, args: { first?: unknown; last?: unknown }): number {
  const sizes = [args.first, args.last].filter((size): size is number => typeof size === "number");
  if (sizes.length === 0) return page.defaultSize;
  return Math.min(Math.max(0, Math.min(...sizes)), page.maxSize);
}

export const costEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const cost = (field.extensions as { cost?: CostExtension } | undefined)?.cost;
  if (cost?.page) {
    const sizes = cost.sizeArg ? { first: args[cost.sizeArg] } : args;
    return (cost.read ?? PAGE_READ_COST) + itemsOf(cost.page, sizes) * childComplexity;
  }
  if (cost?.listSize !== undefined) return 1 + cost.listSize * childComplexity;
  return 1 + childComplexity;
};
