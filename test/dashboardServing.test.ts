// dashboardServing.test.ts: how /dashboard is served: `/` leads there when it is on, DASHBOARD
// and the mode turn it on and off, the page's policy allows nothing but this origin, and only the
// dashboard's own files are served (nothing else in node_modules or the repository).
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let db: TestDatabase;
let server: TestServer;

serverForFile({ role: "api" }, (file) => ({ db, server } = file));

const origin = () => server.url.replace(/\/graphql$/, "");

/** A request with the path sent exactly as written (fetch would resolve `..` first). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The asset URLs the page names: stylesheet, icon, main module and the import map's entries. */
function assetUrls(html: string): string[] {
  const map = JSON.parse(/<script type="importmap">(.*?)<\/script>/s.exec(html)![1]!) as { imports: Record<string, string> };
  const linked = [...html.matchAll(/(?:href|src)="(\/dashboard\/static\/[^"]+)"/g)].map((m) => m[1]!);
  return [...linked, ...Object.values(map.imports)];
}

describe("the dashboard in development (on by default)", () => {
  it("redirects / to /dashboard and serves the page at each view's path", async () => {
    const root = await fetch(`${origin()}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/dashboard");
    for (const path of ["/dashboard", "/dashboard/", "/dashboard/kinds", "/dashboard/batches/5bdbca35-1e5c-4de4-b426-06d54d271774"]) {
      const page = await fetch(`${origin()}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await page.text();
      expect(html).toContain('<meta name="batchwire-keys" content="open">');
    }
    expect((await fetch(`${origin()}/dashboard/nowhere`)).status).toBe(404);
    expect((await fetch(`${origin()}/dashboard`, { method: "POST" })).status).toBe(405);
  });

  it("gives the page a policy that allows this origin only and no inline code but its import map", async () => {
    const page = await fetch(`${origin()}/dashboard`);
    const csp = page.headers.get("content-security-policy")!;
    const directives = new Map(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("script-src")![0]).toBe("'self'");
    expect(directives.get("script-src")!.slice(1)).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/=]+'$/)]);
    for (const name of ["style-src", "img-src", "connect-src"]) expect(directives.get(name)).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp).not.toContain("unsafe");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    // The one inline script is the import map, and the hash is its hash.
    const html = await page.text();
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>(.*?)<\/script>/gs)].map((m) => m[1]!);
    expect(inline).toHaveLength(1);
    const { createHash } = await import("node:crypto");
    expect(directives.get("script-src")![1]).toBe(`'sha256-${createHash("sha256").update(inline[0]!).digest("base64")}'`);
  });

  it("serves the page's files, gzipped when asked, cached for good under a versioned path", async () => {
    const html = await (await fetch(`${origin()}/dashboard`)).text();
    const urls = assetUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(8);
    for (const url of urls) {
      const plain = await rawGet(origin(), url);
      expect(plain.status, url).toBe(200);
      expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(plain.headers["content-encoding"]).toBeUndefined();
      const zipped = await rawGet(origin(), url, { "accept-encoding": "gzip, br" });
      expect(zipped.headers["content-encoding"]).toBe("gzip");
      expect(zipped.body.length).toBeLessThan(plain.body.length);
    }
    // graphql-ws's client imports a chunk next to it: served too, because the client names it.
    const client = urls.find((url) => url.endsWith("/vendor/graphql-ws/client.js"))!;
    const chunk = /from\s*'\.\/([\w-]+\.js)'/.exec((await rawGet(origin(), client)).body.toString())![1]!;
    expect((await rawGet(origin(), client.replace("client.js", chunk))).status).toBe(200);
  });

  it("serves nothing outside its own files, whatever the path says", async () => {
    const html = await (await fetch(`${origin()}/dashboard`)).text();
    const main = assetUrls(html).find((url) => url.endsWith("/app/main.js"))!;
    const prefix = main.slice(0, -"app/main.js".length);
    const attempts = [
      `${prefix}../../../package.json`,
      `${prefix}..%2f..%2f..%2fpackage.json`,
      `${prefix}%2e%2e/%2e%2e/package.json`,
      `${prefix}app/../../serve.ts`,
      `${prefix}vendor/preact/package.json`,
      `${prefix}vendor/preact/preact.mjs.map`,
      `${prefix}vendor/graphql-ws/server-zBhvXJ_Z.js`,
      `${prefix}node_modules/preact/package.json`,
      `${prefix}app/`,
      `${prefix}/etc/passwd`,
      main.replace(/static\/[0-9a-f]{12}\//, "static/000000000000/"),
      "/dashboard/static/app/main.js",
      "/dashboard/../package.json",
      "/dashboard/src/dashboard/serve.ts",
      "/dashboard/.env",
    ];
    for (const path of attempts) {
      const response = await rawGet(origin(), path);
      expect(response.status, path).toBe(404);
      expect(response.body.toString()).not.toContain('"name": "batchwire"');
    }
  });
});

describe("turning the dashboard off and on", () => {
  async function withServer(config: Parameters<typeof startServer>[1], check: (origin: string) => Promise<void>) {
    const other = await startServer(db.url, { role: "api", ...config });
    try {
      await check(other.url.replace(/\/graphql$/, ""));
    } finally {
      await other.stop();
    }
  }

  it("DASHBOARD=false serves no dashboard, and / leads to GraphiQL instead", async () => {
    await withServer({ dashboard: false }, async (base) => {
      expect((await fetch(`${base}/dashboard`)).status).toBe(404);
      expect((await fetch(`${base}/`, { redirect: "manual" })).headers.get("location")).toBe("/graphql");
    });
  });

  it("is off in production unless DASHBOARD=true, and then tells the page that keys are required", async () => {
    await withServer({ production: true }, async (base) => {
      expect((await fetch(`${base}/dashboard`)).status).toBe(404);
    });
    await withServer({ production: true, dashboard: true }, async (base) => {
      const page = await fetch(`${base}/dashboard`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<meta name="batchwire-keys" content="required">');
      expect((await fetch(`${base}/`, { redirect: "manual" })).headers.get("location")).toBe("/dashboard");
    });
  });
});
