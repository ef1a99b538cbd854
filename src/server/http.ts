// http.ts: the node:http server: /healthz, /readyz, /metrics, the dashboard, a request size limit,
// and yoga for everything else.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { DashboardHandler } from "../dashboard/serve.ts";
import { ErrorCode } from "../errors.ts";
import { answerReadiness, type ReadinessReport } from "./readiness.ts";
import type { BatchwireYoga } from "./yoga.ts";

export interface HttpOptions {
  /** Absent in a worker-only process: it serves /healthz and nothing else. */
  yoga: BatchwireYoga | undefined;
  maxRequestBytes: number;
  isReady: () => boolean;
  /** /readyz's check: can this process do its work now? */
  readiness: () => Promise<ReadinessReport>;
  role: string;
  /** Serves /dashboard (and redirects / to it) when the dashboard is on. */
  dashboard?: DashboardHandler;
  /** GET /batches/{id}/results.jsonl (results.ts); returns false for other paths. */
  results?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Where `/` leads without the dashboard (GraphiQL, when it is on). */
  rootRedirect?: string;
  /** GET /metrics (observability/metricsRoute.ts), on every role; returns false for other paths. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export function createHttpServer({ yoga, maxRequestBytes, isReady, readiness, role, dashboard, results, rootRedirect, metrics }: HttpOptions): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      const ready = isReady();
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: ready ? "ok" : "starting", role }));
      return;
    }
    if (path === "/readyz") return void answerReadiness(res, readiness);
    if (metrics?.(req, res)) return;
    if (dashboard?.(req, res)) return;
    if (results?.(req, res)) return;
    // Without the dashboard, someone who opens the server's address lands on GraphiQL, not on an
    // empty 404.
    if (path === "/" && rootRedirect && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(302, { location: rootRedirect }).end();
      return;
    }
    if (Number(req.headers["content-length"] ?? 0) > maxRequestBytes) return tooLarge(res, maxRequestBytes);
    if (!yoga) {
      res.writeHead(404).end();
      return;
    }
    // A chunked body declares no length: count it as it arrives. (Node holds a body with a
    // content-length to exactly that length.)
    if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] !== undefined) {
      void readBounded(req, maxRequestBytes).then((body) => {
        if (body === undefined) return tooLarge(res, maxRequestBytes);
        // @whatwg-node/server (under yoga) takes an already-read body from `req.body`.
        (req as IncomingMessage & { body?: Buffer }).body = body;
        void yoga(req, res);
      });
      return;
    }
    void yoga(req, res);
  });
}

function tooLarge(res: ServerResponse, maxRequestBytes: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(413, { "content-type": "application/json", connection: "close" });
  res.end(
    JSON.stringify({
      errors: [
        {
          message: `the request body exceeds ${maxRequestBytes} bytes (MAX_REQUEST_BYTES)`,
          extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, maxRequestBytes },
        },
      ],
    }),
  );
}

/** The whole body, or undefined as soon as it passes `limit` bytes (the rest is left unread). */
function readBounded(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.off("end", onEnd);
        // Discard the rest while the 413 goes out; `connection: close` then ends the socket.
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks, size));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", () => resolve(undefined));
  });
}

export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : port;
}
