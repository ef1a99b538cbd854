// serve.ts: the dashboard's HTTP routes: `/` redirects to it, its page answers each of its views'
// paths, and its assets are served from memory with long-lived caching (their URLs change with
// their contents). Everything else under /dashboard is 404.
import type { IncomingMessage, ServerResponse } from "node:http";
import { loadAssets, type Assets } from "./assets.ts";
import { dashboardPage, DASHBOARD_PATH } from "./page.ts";

export interface DashboardOptions {
  /** Whether the API asks for a key now (production, or once a key exists). */
  keysRequired: () => Promise<boolean>;
}

/** Handles the request and returns true when it is the dashboard's; false leaves it to the caller. */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The page's paths: the batch list, a batch, the kinds. Deep links load the same page. */
const PAGE = /^\/dashboard(?:\/|\/kinds|\/batches\/[0-9a-fA-F-]{1,36})?$/;
const ASSET = /^\/dashboard\/static\/([0-9a-f]{12})\/([\w./-]+)$/;

const COMMON_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

function accepts(req: IncomingMessage, encoding: string): boolean {
  return String(req.headers["accept-encoding"] ?? "").split(",").some((part) => part.trim().split(";")[0] === encoding);
}

export function createDashboard(options: DashboardOptions): DashboardHandler {
  const assets: Assets = loadAssets();
  const page = dashboardPage(assets);

  const send = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string) => {
    res.writeHead(status, { ...COMMON_HEADERS, ...headers, "content-length": String(Buffer.byteLength(body)) });
    res.end(req.method === "HEAD" ? undefined : body);
  };

  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path !== "/" && path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      if (path === "/") return false;
      send(req, res, 405, { allow: "GET, HEAD", "content-type": "text/plain" }, "method not allowed\n");
      return true;
    }
    if (path === "/") {
      send(req, res, 302, { location: DASHBOARD_PATH, "content-type": "text/plain" }, `see ${DASHBOARD_PATH}\n`);
      return true;
    }
    if (PAGE.test(path)) {
      void options.keysRequired().then(
        (required) =>
          send(req, res, 200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", "content-security-policy": page.csp }, page.html(required)),
        () => send(req, res, 503, { "content-type": "text/plain", "retry-after": "1" }, "the dashboard is not available right now\n"),
      );
      return true;
    }
    const match = ASSET.exec(path);
    const asset = match && match[1] === assets.version ? assets.files.get(match[2]!) : undefined;
    if (!asset) {
      send(req, res, 404, { "content-type": "text/plain" }, "not found\n");
      return true;
    }
    const gzip = accepts(req, "gzip");
    send(
      req,
      res,
      200,
      {
        "content-type": asset.type,
        "cache-control": "public, max-age=31536000, immutable",
        vary: "accept-encoding",
        ...(gzip ? { "content-encoding": "gzip" } : {}),
      },
      gzip ? asset.gzip : asset.body,
    );
    return true;
  };
}
