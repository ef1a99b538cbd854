// http.ts: the node:http server: /healthz, /readyz, /metrics, the dashboard, the request gate
// (key, size and framing from the headers, before any body is read), and yoga for everything else.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Authenticator } from "../auth/authenticator.ts";
import type { ClientLog } from "../clientLog.ts";
import type { DashboardHandler } from "../dashboard/serve.ts";
import { answerReadiness, type ReadinessReport } from "./readiness.ts";
import { answerClientError, hasBody, passGate } from "./requestGate.ts";
import type { BatchwireYoga } from "./yoga.ts";

export interface HttpOptions {
  /** Absent in a worker-only process: it serves /healthz and nothing else. */
  yoga: BatchwireYoga | undefined;
  auth: Authenticator;
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
  clientLog: ClientLog;
}

export function createHttpServer({ yoga, auth, maxRequestBytes, isReady, readiness, role, dashboard, results, rootRedirect, metrics, clientLog }: HttpOptions): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      const ready = isReady();
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: ready ? "ok" : "starting", role }));
      return;
    }
    if (path === "/readyz") return void answerReadiness(res, readiness);
    // Metrics and the dashboard's files read no body; /metrics checks its own token.
    if (metrics?.(req, res)) return;
    if (dashboard?.(req, res)) return;
    // GET only, authenticated by its own headers; it reads no body.
    if (results?.(req, res)) return;
    // Without the dashboard, someone who opens the server's address lands on GraphiQL, not on an
    // empty 404.
    if (path === "/" && rootRedirect && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(302, { location: rootRedirect }).end();
      return;
    }
    if (!yoga) {
      res.writeHead(404).end();
      return;
    }
    // A request without a body reads nothing: yoga's auth plugin checks its key (GraphiQL's page
    // needs none).
    if (!hasBody(req)) {
      void yoga(req, res);
      return;
    }
    void passGate(req, res, { auth, maxRequestBytes, clientLog }).then((principal) => {
      if (principal) void yoga(req, res);
    });
  });
  server.on("clientError", (error: Error, socket) => answerClientError(error, socket, clientLog));
  return server;
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
