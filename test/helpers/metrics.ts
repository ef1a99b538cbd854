// metrics.ts: GET /metrics as Prometheus scrapes it, read with real Prometheus text-format parsers:
// the parse-prometheus-text-format package, and Prometheus's own `promtool check metrics`.
import { spawn } from "node:child_process";
import parsePrometheusTextFormat, { type MetricFamily, type Sample } from "parse-prometheus-text-format";

export interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
  families: MetricFamily[];
}

/** GET {base}/metrics, with a bearer token if given; parsed when it answered 200. */
export async function scrape(base: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${base}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type"), text, families: response.status === 200 ? parsePrometheusTextFormat(text) : [] };
}

/** The origin of a server's /graphql URL. */
export const baseOf = (graphqlUrl: string) => new URL(graphqlUrl).origin;

export function family(scraped: Scrape, name: string): MetricFamily | undefined {
  return scraped.families.find((f) => f.name === name);
}

const matches = (sample: Sample, labels: Record<string, string>) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value);

/** The value of the sample of `name` whose labels include `labels`; undefined when there is none. */
export function value(scraped: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const sample = family(scraped, name)?.metrics.find((s) => matches(s, labels));
  if (!sample) return undefined;
  return Number(sample.value ?? sample.count);
}

/** The labels of one sample line ("name{a=\"x\"} 1"), unescaped; undefined for other lines. */
function sampleLine(line: string): { name: string; labels: Record<string, string> } | undefined {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
  if (!match) return undefined;
  const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!.replace(/\\(.)/g, "$1")]));
  return { name: match[1]!, labels };
}

/** Every label of every batchwire_* sample line (histogram series included), read from the text. */
export function batchwireLabels(scraped: Scrape): { metric: string; label: string; value: string }[] {
  return scraped.text
    .split("\n")
    .map(sampleLine)
    .filter((sample) => sample?.name.startsWith("batchwire_"))
    .flatMap((sample) => Object.entries(sample!.labels).map(([label, value]) => ({ metric: sample!.name, label, value })));
}

/**
 * The `_count` of a histogram's series whose labels include `labels`. parse-prometheus-text-format
 * drops the labels of labelled histograms, so these lines are read as they are (promtool checks
 * the same text's syntax).
 */
export function histogramCount(scraped: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of scraped.text.split("\n")) {
    const sample = sampleLine(line);
    if (sample?.name !== `${name}_count`) continue;
    if (Object.entries(labels).every(([key, v]) => sample.labels[key] === v)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** The text of the batchwire_* families only (HELP, TYPE and samples). */
export function batchwireText(text: string): string {
  const blocks = text.split(/\n(?=# HELP )/);
  return `${blocks.filter((block) => block.startsWith("# HELP batchwire_")).join("\n").trimEnd()}\n`;
}

/** `promtool check metrics` (Debian's prometheus package) reading `text` from stdin. */
export function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
