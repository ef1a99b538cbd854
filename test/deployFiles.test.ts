// deployFiles.test.ts: the ready-made operations files in deploy/: the Prometheus alert rules pass
// `promtool check rules` and their unit tests (`promtool test rules`), and the Grafana dashboard's
// every query is valid PromQL; both speak only of metrics batchwire exports.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { expect, it } from "vitest";
import { Metrics } from "../src/observability/metrics.ts";

const run = promisify(execFile);
const DEPLOY = fileURLToPath(new URL("../deploy/", import.meta.url));
const RULES = join(DEPLOY, "prometheus/batchwire.rules.yml");

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("promtool", args);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** Every series name an app exports: its families, with a histogram's _bucket, _sum and _count. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const family of parsePrometheusTextFormat(await new Metrics().text())) {
    names.add(family.name);
    if (family.type === "HISTOGRAM") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(family.name + suffix);
  }
  return names;
}

/** The metric names a PromQL expression reads (label values and functions aside). */
const metricsIn = (expr: string) => [...expr.replace(/"[^"]*"/g, '""').matchAll(/\b((?:batchwire|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

it("promtool accepts the alert rules and passes their unit tests", async () => {
  const check = await promtool("check", "rules", RULES);
  expect(check.output).toContain("SUCCESS: 5 rules found");
  expect(check.code).toBe(0);
  const tests = await promtool("test", "rules", join(DEPLOY, "prometheus/batchwire.rules.test.yml"));
  expect(tests.output).toContain("SUCCESS");
  expect(tests.code).toBe(0);
});

it("alerts on queue age, failure rate, kinds without workers and webhook failures, over exported metrics only", async () => {
  const text = await readFile(RULES, "utf8");
  const alerts = [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  expect(alerts).toEqual([
    "BatchwireQueuedTasksWaiting",
    "BatchwireNoWorkersForKind",
    "BatchwireTaskFailureRateHigh",
    "BatchwireWebhookDeliveriesFailing",
    "BatchwireWebhookDeliveriesAbandoned",
  ]);
  const exported = await exportedNames();
  const used = metricsIn(text.split("\n").filter((line) => !line.trim().startsWith("#") && !/^\s*(summary|description):/.test(line)).join("\n"));
  expect(used.length).toBeGreaterThan(5);
  expect(used.filter((name) => !exported.has(name))).toEqual([]);
});

it("the Grafana dashboard is JSON whose every query is valid PromQL over exported metrics", async () => {
  const dashboard = JSON.parse(await readFile(join(DEPLOY, "grafana/batchwire-dashboard.json"), "utf8")) as {
    uid: string;
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };
  expect(dashboard.uid).toBe("batchwire");
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
  expect(queries.length).toBeGreaterThan(15);

  const exported = await exportedNames();
  for (const { panel, expr } of queries) expect(metricsIn(expr).filter((name) => !exported.has(name)), panel).toEqual([]);

  // promtool parses every query as the expression of a recording rule, Grafana's variables filled in.
  const dir = await mkdtemp(join(tmpdir(), "batchwire-dashboard-"));
  try {
    const rules = queries.map(({ expr }, i) =>
      `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr.replaceAll("$__rate_interval", "5m").replaceAll("$kind", ".*").replaceAll("$job", ".*"))}`,
    );
    await writeFile(join(dir, "dashboard.rules.yml"), `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
    const check = await promtool("check", "rules", join(dir, "dashboard.rules.yml"));
    expect(check.output).toContain(`SUCCESS: ${queries.length} rules found`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
