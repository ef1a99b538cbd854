// origins.ts: which browser pages may call the API. Browsers enforce CORS on HTTP but not on
// WebSocket, so the WebSocket upgrade checks the Origin header itself (no cross-site socket
// can ride a developer's open local server).

/** CORS for yoga: none (same origin only) unless origins are configured; never credentials. */
export function corsOptions(allowed: string[]): false | { origin: string[]; credentials: false } {
  return allowed.length === 0 ? false : { origin: allowed, credentials: false };
}

/**
 * A request without Origin comes from no browser page (a server, a CLI) and is let through; a
 * page's request is allowed from its own host (GraphiQL) or from a configured origin.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: string[]): boolean {
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (host !== undefined && parsed.host === host) return true;
  return allowed.includes(parsed.origin);
}
