// graphiql.browser.test.ts: a person's first run, in a real browser: open GraphiQL, run the
// example's Submit, paste the id into Variables, run Watch, and see the final event on the page.
// playwright-core drives Debian's Chromium (.ci/run installs it); it never downloads a browser.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox", // tests run as root
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const DEADLINE_MS = 60_000; // 60 seconds for any one step; the demo batch takes about 8
const SCREENSHOT = "/tmp/graphiql-final.png";

let db: TestDatabase;
let server: TestServer;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  db = await createTestDatabase();
  server = await startServer(db.url);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await db?.drop();
});

/** The text a person sees in one of GraphiQL's Monaco editors, line by line, top to bottom. */
async function editorText(editor: Locator): Promise<string> {
  const text = await editor.evaluate((root) =>
    [...root.querySelectorAll<HTMLElement>(".view-line")]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((line) => line.textContent ?? "")
      .join("\n"),
  );
  return text.replace(/\u00a0/g, " ");
}

/** Waits until the editor shows text `accept` returns a value for, and returns that value. */
function waitForText<T>(editor: Locator, accept: (text: string) => T | undefined, what: string): Promise<T> {
  return waitFor(async () => accept(await editorText(editor)), DEADLINE_MS, what);
}

/** Presses the play button; the example holds three operations, so GraphiQL asks which one. */
async function run(page: Page, operation: "Submit" | "Watch" | "Results"): Promise<void> {
  await page.getByRole("button", { name: /^Execute query/ }).click();
  await page.getByRole("menuitem", { name: operation, exact: true }).click();
}

it("GraphiQL runs the example: Submit, paste the id, Watch until the final event", async () => {
  if (!browser) throw new Error("no browser");
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(DEADLINE_MS);

  await page.goto(server.url);
  const operationEditor = page.getByRole("region", { name: "Operation Editor" }).getByRole("code");
  const variablesEditor = page.getByRole("region", { name: "Variables" }).getByRole("code").filter({ visible: true });
  const resultPane = page.getByRole("region", { name: "Result Window" }).getByRole("code");

  // GraphiQL opens with the example.
  const example = await waitForText(operationEditor, (text) => (text.includes("mutation Submit") ? text : undefined), "the example");
  expect(example).toContain("subscription Watch($batchId: ID!)");

  // 1. Submit: the result pane shows the new batch and its id.
  await run(page, "Submit");
  const batchId = await waitForText(
    resultPane,
    (text) => (text.includes('"submitBatch"') ? /"id": "([0-9a-f-]{36})"/.exec(text)?.[1] : undefined),
    "Submit's result",
  );
  const submitted = await editorText(resultPane);
  expect(submitted).toContain('"total": 4');
  expect(submitted).not.toContain('"errors"');

  // 2. Put the id into the variables, as the example's comments say.
  await variablesEditor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.insertText(`{ "batchId": "${batchId}" }`);
  await waitForText(variablesEditor, (text) => (text.trim() === `{ "batchId": "${batchId}" }` ? text : undefined), "the pasted variables");

  // 3. Watch: events replace each other in the result pane; the batch runs for about 8 seconds,
  // so the page shows it RUNNING before the final event says COMPLETED.
  await run(page, "Watch");
  let sawRunning = false;
  const final = await waitForText(
    resultPane,
    (text) => {
      if (!text.includes('"jobProgress"')) return undefined;
      if (text.includes('"status": "RUNNING"')) sawRunning = true;
      return text.includes('"status": "COMPLETED"') ? text : undefined;
    },
    'the final event ("status": "COMPLETED")',
  );
  expect(sawRunning).toBe(true);
  expect(final).toContain(`"id": "${batchId}"`);
  expect(final).toContain('"progress": 1');
  expect(final).toContain('"total": 4');
  expect(final).toContain('"succeeded": 4');
  expect(final).toContain('"failed": 0');
  expect(final).not.toContain('"errors"');
  // The stream ends after the final event: the stop button turns back into the play button.
  await page.getByRole("button", { name: /^Execute query/ }).waitFor();
  await page.screenshot({ path: SCREENSHOT });

  // 4. Results: the same variables read every task's outcome.
  await run(page, "Results");
  const results = await waitForText(resultPane, (text) => (text.includes('"totalCount"') ? text : undefined), "Results' result");
  // The pane shows as many lines as fit; the batch and the first tasks are at the top.
  expect(results).toContain('"status": "COMPLETED"');
  expect(results).toContain('"totalCount": 4');
  expect(results).toContain('"customId": "a"');
  expect(results).not.toContain('"errors"');

  expect(pageErrors).toEqual([]);
  await page.close();
}, 120_000);
