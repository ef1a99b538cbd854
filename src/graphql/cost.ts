// cost.ts: the cost model of an operation, the number of values it can produce, with page sizes
// as the request gives them (literals, variables or defaults). Each field costs 1; a connection
// or list multiplies what is below it by the most items it can hold. Fields declare their own
// multiplier in their extensions; server/operationCost.ts applies the limit.
import type { ComplexityEstimator } from "graphql-query-complexity";
import type { PageSize } from "./cursors.ts";

interface CostExtension {
  /** A connection: first/last (capped at maxSize), or defaultSize when neither is given. */
  page?: PageSize;
  /** A list of at most this many items. */
  listSize?: number;
}

export function pageCost(page: PageSize): { cost: CostExtension } {
  return { cost: { page } };
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
  if (cost?.page) return 1 + itemsOf(cost.page, args) * childComplexity;
  if (cost?.listSize !== undefined) return 1 + cost.listSize * childComplexity;
  return 1 + childComplexity;
};
