// bodyLimit.ts: MAX_REQUEST_BYTES while a body streams, for every reader of it (yoga's parsers,
// any other plugin) but multipart uploads, which uploads.ts counts as it streams them: the body a
// request hands on is counted chunk by chunk and fails at the first byte past the limit with
// PAYLOAD_TOO_LARGE (HTTP 413). yoga's own limit (25 MB by default, another code) is turned off
// in yoga.ts.
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { ErrorCode } from "../errors.ts";

export function payloadTooLarge(maxRequestBytes: number): GraphQLError {
  return new GraphQLError(`the request body exceeds ${maxRequestBytes} bytes (MAX_REQUEST_BYTES)`, {
    extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, maxRequestBytes, http: { status: 413, headers: { connection: "close" } } },
  });
}

export function useRequestBodyLimit(maxRequestBytes: number): Plugin {
  return {
    onRequest({ request, setRequest, fetchAPI }) {
      // A multipart upload streams into its resolver a chunk at a time, counted by uploads.ts;
      // this re-pipe would take its chunks as fast as the socket gives them.
      if (!request.body || request.headers.get("content-type")?.toLowerCase().startsWith("multipart/form-data")) return;
      let received = 0;
      // As yoga's own limit does: a native body needs the native TransformStream.
      const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
      const counted = request.body.pipeThrough(
        new Transform<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            received += chunk.byteLength;
            if (received > maxRequestBytes) controller.error(payloadTooLarge(maxRequestBytes));
            else controller.enqueue(chunk);
          },
        }),
      );
      setRequest(new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body: counted, duplex: "half" } as RequestInit));
    },
  };
}
