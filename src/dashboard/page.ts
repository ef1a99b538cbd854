// page.ts: the dashboard's one HTML page and its Content-Security-Policy. The page is a shell: an
// import map (the one inline script, allowed by its hash), the stylesheet and the main module.
import { createHash } from "node:crypto";
import type { Assets } from "./assets.ts";

export const DASHBOARD_PATH = "/dashboard";

export interface DashboardPage {
  /** The page, for a server where API keys are required or not. */
  html(keysRequired: boolean): string;
  /** The Content-Security-Policy of the page: nothing but this origin, and no inline code but the import map. */
  csp: string;
}

export function staticUrl(assets: Assets, name: string): string {
  return `${DASHBOARD_PATH}/static/${assets.version}/${name}`;
}

export function dashboardPage(assets: Assets): DashboardPage {
  const importMap = JSON.stringify({
    imports: Object.fromEntries(Object.entries(assets.imports).map(([specifier, name]) => [specifier, staticUrl(assets, name)])),
  });
  const importMapHash = createHash("sha256").update(importMap).digest("base64");
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self'",
    // 'self' covers this origin's ws:// and wss:// (CSP Level 3): the GraphQL socket.
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    csp,
    html: (keysRequired) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="batchwire-keys" content="${keysRequired ? "required" : "open"}">
<title>batchwire</title>
<link rel="icon" type="image/svg+xml" href="${staticUrl(assets, "app/icon.svg")}">
<link rel="stylesheet" href="${staticUrl(assets, "app/style.css")}">
<script type="importmap">${importMap}</script>
<script type="module" src="${staticUrl(assets, "app/main.js")}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The batchwire dashboard needs JavaScript.</noscript>
</body>
</html>
`,
  };
}
