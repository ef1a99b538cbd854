// csrfPrevention.test.ts: a request a cross-site page could send without a CORS preflight (a
// simple GET, or a POST as a form or text/plain) must carry a header such a page cannot set; and
// only our own pages, or configured origins, may call the API from a browser (CORS, and the
// Origin of a WebSocket upgrade, which browsers do not police).
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

let db: TestDatabase;
let server: TestServer;
let allowing: TestServer;

const QUERY = "{ taskKinds { name } }";

beforeAll(async () => {
  db = await createTestDatabase();
  // Development with no key: the open mode, where CSRF prevention matters most.
  server = await startServer(db.url, { production: false, role: "api" });
  allowing = await startServer(db.url, { production: false, role: "api", corsOrigins: ["https://app.example.com"] });
});

afterAll(async () => {
  await server?.stop();
  await allowing?.stop();
  await db?.drop();
});

describe("CSRF prevention", () => {
  it("refuses a GET without a CSRF header with 403, and serves it with one", async () => {
    const url = `${server.url}?query=${encodeURIComponent(QUERY)}`;
    const refused = await fetch(url, { headers: { accept: "application/json" } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("CSRF");

    for (const header of ["x-graphql-csrf", "graphql-client-name", "apollo-require-preflight"]) {
      const ok = await fetch(url, { headers: { accept: "application/json", [header]: "1" } });
      expect(ok.status, header).toBe(200);
      expect(await ok.json(), header).toMatchObject({ data: { taskKinds: expect.any(Array) } });
    }
  });

  it("refuses form and text/plain POSTs without a CSRF header, and runs nothing", async () => {
    const bodies: [string, string][] = [
      ["application/x-www-form-urlencoded", `query=${encodeURIComponent('mutation { submitBatch(input: { tasks: [{ kind: "echo", input: 1 }] }) { batch { id } } }')}`],
      ["multipart/form-data; boundary=x", `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"${QUERY}"}\r\n--x--\r\n`],
      ["text/plain", JSON.stringify({ query: 'mutation { submitBatch(input: { tasks: [{ kind: "echo", input: 1 }] }) { batch { id } } }' })],
    ];
    for (const [contentType, body] of bodies) {
      const response = await fetch(server.url, { method: "POST", headers: { "content-type": contentType }, body });
      expect(response.status, contentType).toBe(403);
    }
    expect((await db.pool.query(`select count(*)::int as n from batch`)).rows[0].n).toBe(0);
  });

  it("serves a JSON POST, which a browser preflights", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(response.status).toBe(200);
  });
});

/** Resolves with the HTTP status of a refused upgrade, or 101 once the socket opens. */
function upgrade(url: string, origin?: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, "graphql-transport-ws", origin ? { origin } : {});
    socket.once("open", () => {
      socket.close();
      resolve(101);
    });
    socket.once("unexpected-response", (_, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on("error", () => undefined);
  });
}

describe("cross-origin pages", () => {
  const preflight = (target: TestServer, origin: string) =>
    fetch(target.url, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });

  it("lets no other site's page call the API over HTTP, by default", async () => {
    const response = await preflight(server, "https://evil.example");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    const post = await fetch(server.url, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses another site's WebSocket upgrade with 403, and lets our own pages and non-browser clients in", async () => {
    const host = new URL(server.url).host;
    expect(await upgrade(server.wsUrl, "https://evil.example")).toBe(403);
    expect(await upgrade(server.wsUrl, `http://${host}`)).toBe(101);
    expect(await upgrade(server.wsUrl)).toBe(101);
  });

  it("allows the origins in CORS_ORIGINS, without credentials", async () => {
    const response = await preflight(allowing, "https://app.example.com");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(await upgrade(allowing.wsUrl, "https://app.example.com")).toBe(101);
    expect(await upgrade(allowing.wsUrl, "https://evil.example")).toBe(403);
    const other = await preflight(allowing, "https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
  });
});
