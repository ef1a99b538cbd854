// rootRedirect.test.ts: someone who opens the server's address lands on GraphiQL (GET / redirects
// to /graphql) instead of an empty 404.
import { expect, it } from "vitest";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let server: TestServer;

serverForFile({ role: "api" }, (file) => ({ server } = file));

it("GET / on an API process redirects to /graphql, where GraphiQL is", async () => {
  const root = `http://127.0.0.1:${server.app.port}/`;
  const response = await fetch(root, { redirect: "manual", headers: { accept: "text/html" } });
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/graphql");

  const followed = await fetch(root, { headers: { accept: "text/html" } });
  expect(followed.url).toBe(server.url);
  expect(await followed.text()).toContain("<title>batchwire</title>");
});
