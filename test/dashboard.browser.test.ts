// dashboard.browser.test.ts: the dashboard in a real browser (playwright-core driving Debian's
// Chromium, as graphiql.browser.test.ts does). Batches submitted over HTTP appear and finish on an
// open page without a reload or a fetch; the batch page agrees with the API; its buttons cancel
// and retry; the page rides out a lost socket without losing the final event; the key field
// works against a production server. Throughout: no console errors, no request to another host,
// no serious accessibility violation (axe-core), under 150 KB gzipped, readable at 360 px.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, post } from "./helpers/auth.ts";
import { getBatch, submitOk, waitForFinal } from "./helpers/batches.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, waitFor, type TestServer } from "./helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const DEADLINE_MS = 60_000; // for any one step
const OUT = join(process.cwd(), "test-results", "dashboard");
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const MAX_GZIPPED_BYTES = 150 * 1024;

let db: TestDatabase;
let api: TestServer;
let worker: TestServer;
let browser: Browser;
let base: string;

/** What every page of the file did: each is checked at the end. */
const seen = { urls: [] as string[], consoleErrors: [] as { at: number; text: string }[], pageErrors: [] as string[] };
/** While the API is down on purpose, the browser reports its failed reconnects; nothing else may be reported. */
const outages: { from: number; to: number }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  mkdirSync(OUT, { recursive: true });
  db = await createTestDatabase();
  worker = await startServer(db.url, { role: "worker", workerConcurrency: 4 });
  api = await startServer(db.url, { role: "api" });
  base = api.url.replace(/\/graphql$/, "");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  console.info(`dashboard screenshots: ${OUT}`);
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await worker?.stop();
  await db?.drop();
});

async function openPage(width = 1280, height = 860): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(DEADLINE_MS);
  page.on("request", (request) => void seen.urls.push(request.url()));
  page.on("websocket", (socket) => void seen.urls.push(socket.url()));
  page.on("console", (message) => {
    if (message.type() === "error") seen.consoleErrors.push({ at: Date.now(), text: message.text() });
  });
  page.on("pageerror", (error) => void seen.pageErrors.push(error.message));
  return page;
}

/** axe-core's serious and critical violations on the page as it is now. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol: the page's CSP (no inline scripts) does not apply.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.targets.join(", ")}`);
}

/** Checks the page in light and dark, wide and at 360 px: no serious violation, nothing wider than the screen. */
async function checkLooks(page: Page, what: string): Promise<void> {
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    expect(await accessibilityProblems(page), `${what}, ${colorScheme}`).toEqual([]);
  }
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background, "dark theme").toBe("rgb(13, 17, 23)");
  await page.emulateMedia({ colorScheme: "light" });
  const wide = page.viewportSize()!;
  await page.setViewportSize({ width: 360, height: 740 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what} at 360 px`).toBeLessThanOrEqual(360);
  expect(await accessibilityProblems(page), `${what} at 360 px`).toEqual([]);
  await page.setViewportSize(wide);
}

const row = (page: Page, id: string) => page.locator(`tr[data-batch-id="${id}"]`);
const socketState = (page: Page, text: string) => page.getByRole("status").filter({ hasText: new RegExp(`^${text}$`) });
const sleeps = (n: number, ms: number, prefix = "s") => Array.from({ length: n }, (_, i) => ({ kind: "sleep", input: { ms }, customId: `${prefix}${i}` }));

let mixed: { id: string };
let long: { id: string };

describe("the dashboard", () => {
  it("shows a batch submitted over HTTP appear, move and reach COMPLETED on an open page, with no reload and no fetch", async () => {
    await submitOk(api.url, { tasks: Array.from({ length: 20 }, (_, i) => ({ kind: "echo", input: { i } })) });
    const page = await openPage();
    const loaded: Buffer[] = [];
    page.on("response", async (response) => {
      if (!response.url().endsWith("/graphql")) loaded.push(await response.body());
    });
    await page.goto(`${base}/dashboard`);
    await socketState(page, "Live").waitFor();
    await page.getByRole("heading", { name: "Batches" }).waitFor();
    await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
    const fetchesBefore = seen.urls.filter((url) => url.endsWith("/graphql")).length;

    mixed = await submitOk(api.url, {
      metadata: { requestedBy: "dashboard test" },
      tasks: [
        ...sleeps(6, 1_500),
        { kind: "fail", input: { times: 9, message: "upstream said no" }, customId: "flaky-0" },
        { kind: "fail", input: { times: 9, message: "upstream said no" }, customId: "flaky-1" },
        ...Array.from({ length: 4 }, (_, i) => ({ kind: "echo", input: { hello: i }, customId: `echo-${i}` })),
      ],
    });
    await row(page, mixed.id).waitFor();
    await row(page, mixed.id).locator(".badge", { hasText: /^RUNNING$/ }).waitFor();
    // While it runs: its pace and the time it still needs.
    await row(page, mixed.id).locator(".eta").waitFor();
    await row(page, mixed.id).locator(".badge", { hasText: /^COMPLETED$/ }).waitFor();
    expect(await row(page, mixed.id).getByRole("img").getAttribute("aria-label")).toBe("12 of 12 finished: 10 succeeded, 2 failed");
    expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
    // Every change came over the socket: not one request was made for it.
    expect(seen.urls.filter((url) => url.endsWith("/graphql")).length).toBe(fetchesBefore);

    // A long batch, for the list's picture and for the cancel button later.
    long = await submitOk(api.url, { tasks: sleeps(8, 60_000, "long-") });
    await row(page, long.id).locator(".badge", { hasText: /^RUNNING$/ }).waitFor();
    await page.screenshot({ path: join(OUT, "batches.png") });

    // Everything the page loaded, gzipped: the page, its modules, styles and icon.
    const gzipped = loaded.reduce((sum, body) => sum + gzipSync(body).length, 0);
    console.info(`the dashboard loads ${loaded.length} files, ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThan(MAX_GZIPPED_BYTES);
    await checkLooks(page, "the batch list");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.setViewportSize({ width: 360, height: 640 });
    await page.screenshot({ path: join(OUT, "batches-360-dark.png") });
    await page.close();
  });

  it("shows a batch's counts as the API has them, its failures grouped, and each task's outcome on click", async () => {
    const page = await openPage(1280, 1100);
    await page.goto(`${base}/dashboard`);
    await row(page, mixed.id).getByRole("link").click();
    await page.getByRole("heading", { name: `Batch ${mixed.id}` }).waitFor();
    const fromApi = (await getBatch(api.url, mixed.id))!;
    for (const [name, value] of Object.entries(fromApi.counts)) {
      await page.locator(`dd[data-count="${name}"]`, { hasText: new RegExp(`^${value}$`) }).waitFor();
    }
    const groups = page.getByRole("table").filter({ has: page.getByRole("columnheader", { name: "Code" }) });
    expect(await groups.getByRole("row").nth(1).innerText()).toMatch(/^2\s+PLANNED_FAILURE\s+upstream said no$/);
    await page.getByRole("img", { name: /^Tasks finished over time: 12 of 12, 2 failed/ }).waitFor();

    // A failed task's error, then a succeeded task's result, on click.
    const tasks = page.locator("table.task-table");
    await tasks.locator('tr[data-task-index="6"]').getByRole("button", { name: "6" }).click();
    await page.getByLabel("Error of task 6").filter({ hasText: "upstream said no" }).waitFor();
    await tasks.locator('tr[data-task-index="8"]').getByRole("button", { name: "8" }).click();
    await page.getByLabel("Result of task 8").filter({ hasText: '"hello": 0' }).waitFor();
    await page.screenshot({ path: join(OUT, "batch.png"), fullPage: true });
    await checkLooks(page, "a batch");

    // Found by customId; then the failed ones by status.
    await page.getByRole("searchbox", { name: "customId" }).fill("echo-2");
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("heading", { name: "Tasks (1)" }).waitFor();
    expect(await tasks.locator("tbody tr").first().getAttribute("data-task-index")).toBe("10");
    await page.getByRole("button", { name: "Show the failed tasks" }).click();
    await page.getByRole("heading", { name: "Tasks (2)" }).waitFor();
    expect(await tasks.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-task-index")))).toEqual(["6", "7"]);
    await page.close();
  });

  it("retries the failed tasks and cancels a batch through its buttons, after a confirmation", async () => {
    const page = await openPage();
    await page.goto(`${base}/dashboard/batches/${mixed.id}`);
    await page.getByRole("button", { name: "Retry failed tasks" }).click();
    const dialog = page.getByRole("dialog", { name: "Retry the failed tasks?" });
    await dialog.waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole("button", { name: "Retry failed tasks" }).click();
    // The batch runs again and the page follows it to its new end.
    await page.locator(".view-head .badge", { hasText: /^RUNNING$/ }).waitFor();
    await page.locator(".view-head .badge", { hasText: /^COMPLETED$/ }).waitFor();
    const { rows } = await db.pool.query(`select attempts from task where batch_id = $1 and custom_id like 'flaky-%'`, [mixed.id]);
    expect(rows.map((r) => r.attempts)).toEqual([6, 6]);
    await page.locator('dd[data-count="failed"]', { hasText: /^2$/ }).waitFor();

    await page.goto(`${base}/dashboard/batches/${long.id}`);
    await page.getByRole("button", { name: "Cancel batch" }).click();
    // Going back changes nothing.
    await page.getByRole("dialog", { name: "Cancel this batch?" }).getByRole("button", { name: "Go back" }).click();
    expect((await getBatch(api.url, long.id))!.status).toBe("RUNNING");
    await page.getByRole("button", { name: "Cancel batch" }).click();
    await page.getByRole("dialog", { name: "Cancel this batch?" }).getByRole("button", { name: "Cancel batch" }).click();
    await page.locator(".view-head .badge", { hasText: /^CANCELED$/ }).waitFor();
    expect(await waitForFinal(api.url, long.id)).toMatchObject({ status: "CANCELED", counts: { canceled: 8 } });
    await page.close();
  });

  it("says when its socket is lost, and shows the final state once it is back", async () => {
    const batch = await submitOk(api.url, { tasks: sleeps(3, 5_000, "outage-") });
    const page = await openPage();
    await page.goto(`${base}/dashboard/batches/${batch.id}`);
    await page.locator(".view-head .badge", { hasText: /^RUNNING$/ }).waitFor();
    await socketState(page, "Live").waitFor();

    const port = api.app.port;
    const outage = { from: Date.now(), to: Infinity };
    outages.push(outage);
    await api.stop();
    await socketState(page, "Reconnecting…").waitFor();
    expect(await page.locator(".view-head .badge").innerText()).toBe("RUNNING");
    // The batch ends while no API process is up: nobody could have pushed that.
    await waitFor(async () => {
      const { rows } = await db.pool.query(`select status from batch where id = $1`, [batch.id]);
      return rows[0].status === "COMPLETED" ? true : undefined;
    }, DEADLINE_MS, "the batch to finish during the outage");
    api = await startServer(db.url, { role: "api", port });
    await socketState(page, "Live").waitFor();
    outage.to = Date.now();
    await page.locator(".view-head .badge", { hasText: /^COMPLETED$/ }).waitFor();
    await page.locator('dd[data-count="succeeded"]', { hasText: /^3$/ }).waitFor();
    await page.close();
  });

  it("asks for a key on a production server, keeps it for the tab, and shows that tenant's batches live", async () => {
    const prodDb = await createTestDatabase();
    const acme = await createKey(prodDb.pool, "acme");
    const prod = await startServer(prodDb.url, { production: true, dashboard: true, workerConcurrency: 2 });
    const prodBase = prod.url.replace(/\/graphql$/, "");
    try {
      const page = await openPage();
      const urlsBefore = seen.urls.length;
      await page.goto(`${prodBase}/dashboard`);
      await page.getByRole("heading", { name: "API key" }).waitFor();
      // Nothing is asked of the API before there is a key to ask with.
      expect(seen.urls.slice(urlsBefore).filter((url) => url.endsWith("/graphql"))).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);

      await page.getByLabel("API key").fill(acme.key);
      await page.getByRole("button", { name: "Use key" }).click();
      await page.getByRole("heading", { name: "Batches" }).waitFor();
      await socketState(page, "Live").waitFor();
      const submitted = await post<{ submitBatch: { batch: { id: string } } }>(
        prod.url,
        `mutation($input: SubmitBatchInput!) { submitBatch(input: $input) { batch { id } } }`,
        { key: acme.key, variables: { input: { tasks: sleeps(2, 500) } } },
      );
      const id = submitted.data!.submitBatch.batch.id;
      await row(page, id).locator(".badge", { hasText: /^COMPLETED$/ }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("batchwire.apiKey"))).toBe(acme.key);

      // A reload keeps the key (this tab's session storage); Forget key drops it.
      await page.reload();
      await row(page, id).waitFor();
      await page.getByRole("button", { name: "Forget key" }).click();
      await page.getByRole("heading", { name: "API key" }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("batchwire.apiKey"))).toBeNull();
      await page.close();
    } finally {
      await prod.stop();
      await prodDb.drop();
    }
  });

  it("lists the task kinds with their input schema and policy", async () => {
    const page = await openPage();
    await page.goto(`${base}/dashboard`);
    await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "Kinds" }).click();
    await page.getByRole("heading", { name: "Task kinds" }).waitFor();
    const sleep = page.getByRole("article").filter({ has: page.getByRole("heading", { name: "sleep", exact: true }) });
    await sleep.getByLabel("Input schema of sleep").filter({ hasText: '"maximum": 3600000' }).waitFor();
    expect(await sleep.locator("dl").innerText()).toContain("3700 s");
    await checkLooks(page, "the kinds");
    await page.close();
  });

  it("made no request to another host, and the browser reported no error", () => {
    const origins = new Set(seen.urls.map((url) => new URL(url).host));
    expect([...origins].every((host) => host.startsWith("127.0.0.1:"))).toBe(true);
    expect(seen.pageErrors).toEqual([]);
    const outsideOutages = seen.consoleErrors.filter((error) => !outages.some((o) => error.at >= o.from && error.at <= o.to));
    expect(outsideOutages).toEqual([]);
    // During the outage, only the reconnect attempts failed.
    const duringOutages = seen.consoleErrors.filter((error) => !outsideOutages.includes(error));
    expect(duringOutages.every((error) => /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/graphql' failed/.test(error.text))).toBe(true);
  });
});
