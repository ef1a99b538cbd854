// responseBudget.ts: the bound on the task JSON (inputs, results) one response may carry,
// MAX_RESPONSE_BYTES. Every page of tasks that selects them draws on one budget per execution;
// a page is cut short (hasNextPage stays true) where the budget runs out, in SQL, so rows that
// would pass it are never read. The cost limit (operationCost.ts) bounds the rows; this bounds
// their bytes, which no static cost can see.
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import type { Context } from "./context.ts";

export class ResponseBudget {
  #left: number;
  /** Page reads take turns, so each sees what the ones before it used. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(bytes: number) {
    this.#left = bytes;
  }

  /** Runs `read` with the bytes left, after any read before it, and charges the bytes it used. */
  spend<T>(read: (left: number) => Promise<{ value: T; bytes: number }>): Promise<T> {
    const turn = this.#turn.then(async () => {
      const { value, bytes } = await read(this.#left);
      this.#left -= bytes;
      return value;
    });
    this.#turn = turn.catch(() => undefined);
    return turn;
  }
}

/** One budget per execution: a query or mutation, or one subscription event (its root value). */
const budgets = new WeakMap<Context, WeakMap<object, ResponseBudget>>();
const NO_ROOT = {};

export function budgetFor(context: Context, info: GraphQLResolveInfo): ResponseBudget {
  const root = typeof info.rootValue === "object" && info.rootValue !== null ? info.rootValue : NO_ROOT;
  let byRoot = budgets.get(context);
  if (!byRoot) budgets.set(context, (byRoot = new WeakMap()));
  let budget = byRoot.get(root);
  if (!budget) byRoot.set(root, (budget = new ResponseBudget(context.services.maxResponseBytes)));
  return budget;
}

/** Which of `names` the field being resolved selects anywhere below it (fragments included). */
export function selectedBelow(info: GraphQLResolveInfo, names: readonly string[]): Set<string> {
  const found = new Set<string>();
  const seenFragments = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (names.includes(selection.name.value)) found.add(selection.name.value);
        visit(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        visit(info.fragments[selection.name.value]?.selectionSet);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet);
  return found;
}
