// authPlugin.ts: HTTP requests authenticate by `Authorization: Bearer <key>` before their
// operation is even parsed; a missing or bad key is UNAUTHENTICATED with HTTP 401. A request
// with a body was already authenticated by the request gate, before its body was read.
import type { Plugin } from "graphql-yoga";
import type { IncomingMessage } from "node:http";
import type { Authenticator, Principal } from "../auth/authenticator.ts";
import { gatedPrincipal } from "./requestGate.ts";

export interface ApiKeyAuth {
  plugin: Plugin;
  /** Authenticates a request that yoga's parsing does not see (graphql-sse); throws like the plugin. */
  authenticate(request: Request): Promise<Principal>;
  /** The principal an HTTP request authenticated as (set before its context is built). */
  principalOf(request: Request): Principal | undefined;
}

export function useApiKeyAuth(auth: Authenticator): ApiKeyAuth {
  const principals = new WeakMap<Request, Principal>();
  const authenticate = async (request: Request): Promise<Principal> => {
    const principal = await auth.authenticate(request.headers.get("authorization"));
    principals.set(request, principal);
    return principal;
  };
  return {
    plugin: {
      async onRequestParse({ request, serverContext }) {
        const gated = gatedPrincipal((serverContext as { req?: IncomingMessage }).req);
        if (gated) principals.set(request, gated);
        else await authenticate(request);
      },
    },
    authenticate,
    principalOf: (request) => principals.get(request),
  };
}
