// registry.ts: the task kinds this process knows, built-ins plus the user's (library or module).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnyTaskKind } from "./kind.ts";
import { builtinKinds } from "./kinds/builtins.ts";

export class KindRegistry {
  readonly #kinds = new Map<string, AnyTaskKind>();

  constructor(kinds: Iterable<AnyTaskKind>) {
    for (const kind of kinds) this.#kinds.set(kind.name, kind); // a user kind may replace a built-in
  }

  get(name: string): AnyTaskKind | undefined {
    return this.#kinds.get(name);
  }

  all(): AnyTaskKind[] {
    return [...this.#kinds.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

function isTaskKind(value: unknown): value is AnyTaskKind {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<AnyTaskKind>;
  return typeof candidate.name === "string" && typeof candidate.run === "function" && candidate.input !== undefined && candidate.policy !== undefined;
}

/**
 * Loads the kinds a module exports: its default export (one kind or an array of kinds) and
 * every named export that is a kind (made with defineTaskKind).
 */
export async function loadKindsModule(specifier: string): Promise<AnyTaskKind[]> {
  const url = specifier.startsWith(".") || specifier.startsWith("/") ? pathToFileURL(resolve(specifier)).href : specifier;
  const module = (await import(url)) as Record<string, unknown>;
  const found: AnyTaskKind[] = [];
  for (const value of Object.values(module)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isTaskKind(item) && !found.includes(item)) found.push(item);
    }
  }
  if (found.length === 0) throw new Error(`TASK_KINDS_MODULE ${specifier} exports no task kinds (use defineTaskKind)`);
  return found;
}

export async function createRegistry(userKinds: AnyTaskKind[], modulePath: string | undefined): Promise<KindRegistry> {
  const fromModule = modulePath ? await loadKindsModule(modulePath) : [];
  return new KindRegistry([...builtinKinds, ...userKinds, ...fromModule]);
}
