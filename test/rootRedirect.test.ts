// rootRedirect.test.ts: someone who opens the server's address lands somewhere, not on an empty
// 404: the dashboard when it is on (dashboardServing.test.ts), GraphiQL when it is off.
import { expect, it } from "vitest";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let server: TestServer;

serverForFile({ role: "api", dashboard: false }, (file) => ({ server } = file));

it("without the dashboard, GET / on an API process redirects to /graphql, where GraphiQL is", async () => {
  const root = `http://127.0.0.1:${server.app.port}/`;
  const response = await fetch(root, { redirect: "manual", headers: { accept: "text/html" } });
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/graphql");

  const followed = await fetch(root, { headers: { accept: "text/html" } });
  expect(followed.url).toBe(server.url);
  expect(await followed.text()).toContain("<title>batchwire</title>");
});
