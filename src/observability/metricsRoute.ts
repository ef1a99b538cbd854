// metricsRoute.ts: GET /metrics, the Prometheus scrape, on every role. With METRICS_TOKEN set it
// asks for `Authorization: Bearer <token>`; unset, it is open in development and absent (404) in
// production, so a production process never shows its internals by accident.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../logger.ts";
import type { Metrics } from "./metrics.ts";

export interface MetricsRouteOptions {
  metrics: Metrics;
  production: boolean;
  token: string | undefined;
  log: Logger;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Answers /metrics and returns true; returns false for other paths. */
export function createMetricsRoute({ metrics, production, token, log }: MetricsRouteOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if ((req.url ?? "/").split("?")[0] !== "/metrics") return false;
    if (token === undefined && production) {
      res.writeHead(404).end();
      return true;
    }
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { "content-type": "text/plain; charset=utf-8", "www-authenticate": 'Bearer realm="metrics"' });
      res.end("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>\n");
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return true;
    }
    metrics.text().then(
      (body) => {
        res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (error: unknown) => {
        log.error({ err: error }, "GET /metrics failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("metrics unavailable\n");
      },
    );
    return true;
  };
}
