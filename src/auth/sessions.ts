// sessions.ts: the long-lived connections of this process (WebSockets, SSE streams) by API key:
// caps how many one key holds, and ends them when their key is revoked.
import type { Logger } from "../logger.ts";
import type { Authenticator, Principal } from "./authenticator.ts";

export interface SessionOptions {
  /** Open sessions one key may hold in this process. */
  maxPerKey: number;
  /** How often open sessions' keys are checked again, in ms. */
  recheckMs: number;
  log: Logger;
}

export interface Session {
  /** Leaves the registry (the connection closed by itself). */
  close(): void;
}

interface Entry {
  /** Called once when the session's key stops being valid. */
  onInvalid: () => void;
}

/** The open development mode has no key: its sessions share this bucket and have no cap. */
const OPEN = "";

export class SessionRegistry {
  readonly #auth: Authenticator;
  readonly #options: SessionOptions;
  readonly #byKey = new Map<string, Set<Entry>>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;

  constructor(auth: Authenticator, options: SessionOptions) {
    this.#auth = auth;
    this.#options = options;
  }

  /** Registers a session; undefined when its key already holds `maxPerKey` of them. */
  open(principal: Principal, onInvalid: () => void): Session | undefined {
    const key = principal.keyId ?? OPEN;
    let entries = this.#byKey.get(key);
    if (key !== OPEN && (entries?.size ?? 0) >= this.#options.maxPerKey) return undefined;
    if (!entries) this.#byKey.set(key, (entries = new Set()));
    const entry: Entry = { onInvalid };
    entries.add(entry);
    return { close: () => this.#remove(key, entry) };
  }

  /** Sessions open for a key (tests and logs). */
  count(keyId: string | null): number {
    return this.#byKey.get(keyId ?? OPEN)?.size ?? 0;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), this.#options.recheckMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Ends every session whose key was revoked (one statement), and open-mode ones once keys exist. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const keyIds = [...this.#byKey.keys()].filter((key) => key !== OPEN);
      const invalid = await this.#auth.revoked(keyIds);
      if (this.#byKey.has(OPEN) && !(await this.#auth.isOpen())) invalid.push(OPEN);
      for (const key of invalid) {
        const entries = this.#byKey.get(key);
        this.#byKey.delete(key);
        if (entries?.size) this.#options.log.info({ keyId: key || null, sessions: entries.size }, "closing sessions of a revoked API key");
        for (const entry of entries ?? []) entry.onInvalid();
      }
    } catch (error) {
      this.#options.log.warn({ err: error }, "API key re-check failed; will retry");
    } finally {
      this.#sweeping = false;
    }
  }

  #remove(key: string, entry: Entry): void {
    const entries = this.#byKey.get(key);
    if (!entries?.delete(entry)) return;
    if (entries.size === 0) this.#byKey.delete(key);
  }
}
