// graphiql.browser.test.ts: a person's first run, in a real browser, once API keys exist: open
// GraphiQL, check that the example fits the editor, put the key into the Headers tab, run the
// example's Submit, paste the id into Variables, run Watch (the failing task's retry shows), see
// the final event, read the Results; and a refused subscription says why instead of spinning.
// playwright-core drives Debian's Chromium (.ci/run installs it); it never downloads a browser.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GRAPHIQL_EXAMPLE } from "../src/server/graphiqlExample.ts";
import { createKey, type TestKey } from "./helpers/auth.ts";
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
const DEADLINE_MS = 60_000; // 60 seconds for any one step; the demo batch takes about 30
const SCREENSHOT = "/tmp/graphiql-final.png";

let db: TestDatabase;
let server: TestServer;
let key: TestKey;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  db = await createTestDatabase();
  // A key exists: every request, subscriptions included, needs one.
  key = await createKey(db.pool, "demo");
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

/** Replaces the text of the editor in the bottom pane's `tab` ("Variables" or "Headers"). */
async function fill(page: Page, tab: "Variables" | "Headers", text: string): Promise<void> {
  await page.getByRole("button", { name: tab, exact: true }).click();
  const editor = page.getByRole("region", { name: tab }).getByRole("code").filter({ visible: true });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await waitForText(editor, (shown) => (shown.trim() === "" ? shown : undefined), `the ${tab.toLowerCase()} emptied`);
  await page.keyboard.insertText(text);
  await waitForText(editor, (shown) => (shown.trim() === text ? shown : undefined), `the ${tab.toLowerCase()} typed in`);
}

/**
 * The widest line of the example, against the width the operation editor shows: Monaco's
 * characters all have one width, measured on a line it has rendered.
 */
async function exampleFit(page: Page): Promise<{ widest: string; neededPx: number; shownPx: number }> {
  const { charPx, shownPx } = await page.getByRole("region", { name: "Operation Editor" }).evaluate((root) => {
    const line = [...root.querySelectorAll<HTMLElement>(".view-line")].find((l) => (l.textContent ?? "").trim().length > 20)!;
    const text = line.firstElementChild as HTMLElement;
    const visible = root.querySelector(".monaco-scrollable-element")!.getBoundingClientRect();
    const scrollbar = root.querySelector(".scrollbar.vertical")?.getBoundingClientRect().width ?? 0;
    return {
      charPx: text.getBoundingClientRect().width / (text.textContent ?? "").length,
      shownPx: visible.right - scrollbar - text.getBoundingClientRect().left,
    };
  });
  const widest = GRAPHIQL_EXAMPLE.split("\n").reduce((a, b) => (b.length > a.length ? b : a));
  return { widest, neededPx: widest.length * charPx, shownPx };
}

it("GraphiQL runs the example with an API key: Submit, paste the id, Watch the retry and the final event, Results", async () => {
  if (!browser) throw new Error("no browser");
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(DEADLINE_MS);

  await page.goto(server.url);
  const operationEditor = page.getByRole("region", { name: "Operation Editor" }).getByRole("code");
  const variablesEditor = page.getByRole("region", { name: "Variables" }).getByRole("code").filter({ visible: true });
  const resultPane = page.getByRole("region", { name: "Result Window" }).getByRole("code");

  // GraphiQL opens with the example, and no line of it is cut off on the right.
  const example = await waitForText(operationEditor, (text) => (text.includes("mutation Submit") ? text : undefined), "the example");
  expect(example).toContain("mutation Submit {");
  const fit = await exampleFit(page);
  expect(fit.neededPx, `"${fit.widest}" needs ${fit.neededPx} px; the editor shows ${fit.shownPx}`).toBeLessThanOrEqual(fit.shownPx);

  // The key goes into the Headers tab, as the example's comments say.
  await fill(page, "Headers", `{ "Authorization": "Bearer ${key.key}" }`);

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
  await fill(page, "Variables", `{ "batchId": "${batchId}" }`);
  void variablesEditor;

  // 3. Watch: events replace each other in the result pane while the batch runs (about 30 s).
  // Task "c" fails 12 s in and waits a second for its retry: the page shows it retrying.
  await run(page, "Watch");
  let sawRunning = false;
  let sawRetrying = false;
  const final = await waitForText(
    resultPane,
    (text) => {
      if (!text.includes('"jobProgress"')) return undefined;
      if (text.includes('"status": "RUNNING"')) sawRunning = true;
      if (text.includes('"retrying": 1')) sawRetrying = true;
      return text.includes('"status": "COMPLETED"') ? text : undefined;
    },
    'the final event ("status": "COMPLETED")',
  );
  expect(sawRunning).toBe(true);
  expect(sawRetrying).toBe(true);
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
}, 180_000);

it("a refused subscription shows why in the result pane, and the play button comes back", async () => {
  if (!browser) throw new Error("no browser");
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(DEADLINE_MS);
  await page.goto(server.url);
  const resultPane = page.getByRole("region", { name: "Result Window" }).getByRole("code");
  await waitForText(page.getByRole("region", { name: "Operation Editor" }).getByRole("code"), (text) => (text.includes("mutation Submit") ? text : undefined), "the example");
  await fill(page, "Variables", `{ "batchId": "00000000-0000-0000-0000-000000000000" }`);

  for (const [headers, message] of [
    ["{}", "an API key is required"],
    [`{ "Authorization": "Bearer bw_unknownKeyUnknownKeyUnknownKeyUnknownKey00" }`, "the API key is unknown or revoked"],
  ] as const) {
    await fill(page, "Headers", headers);
    await run(page, "Watch");
    const shown = await waitForText(resultPane, (text) => (text.includes(message) ? text : undefined), `"${message}" in the result pane`);
    expect(shown).toContain('"code": "UNAUTHENTICATED"');
    await page.getByRole("button", { name: /^Execute query/ }).waitFor();
  }
  await page.close();
}, 120_000);
