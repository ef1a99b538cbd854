// streamGuard.ts: subscriptions over HTTP (SSE) are long-lived like sockets: each counts against
// its key's connection cap and ends when the key is revoked. WebSocket operations are guarded by
// their socket instead (ws.ts).
import { isAsyncIterable, Repeater, type Plugin } from "graphql-yoga";
import type { ExecutionResult } from "graphql";
import type { SessionRegistry, Session } from "../auth/sessions.ts";
import { tooManySubscriptions, unauthenticated } from "../errors.ts";
import type { Context } from "../graphql/context.ts";

/**
 * `source` until `revoked` settles (then one UNAUTHENTICATED result), the client goes away, or
 * it ends. A Repeater, because a client leaving must end the stream at once, not after the
 * source's next event (as an async generator's return() would wait for).
 */
function untilRevoked(source: AsyncIterable<ExecutionResult>, revoked: Promise<void>, session: Session): Repeater<ExecutionResult> {
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]();
    void revoked.then(async () => {
      await push({ errors: [unauthenticated("the API key was revoked")] });
      stop();
    });
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), stop.then(() => undefined)]);
        if (!next || next.done) break;
        await push(next.value);
      }
    } finally {
      session.close();
      void iterator.return?.();
      stop();
    }
  });
}

export function useStreamGuard(sessions: SessionRegistry, maxPerKey: number): Plugin<Context & { request?: Request }> {
  return {
    onSubscribe({ args }) {
      const context = args.contextValue;
      if (!context.request) return; // a WebSocket operation: its socket is the session
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          let revoke!: () => void;
          const revoked = new Promise<void>((resolve) => (revoke = resolve));
          const session = sessions.open(context.principal, revoke);
          if (!session) {
            void (result as AsyncGenerator).return?.(undefined);
            setResult({ errors: [tooManySubscriptions(`an API key holds at most ${maxPerKey} open connections (MAX_CONNECTIONS_PER_KEY)`)] });
            return;
          }
          setResult(untilRevoked(result, revoked, session));
        },
      };
    },
  };
}
