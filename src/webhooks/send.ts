// send.ts: one webhook attempt over the network, guarded against server-side request forgery: the
// host is resolved here, every address it resolves to is checked, and the connection goes to the
// checked address (no second lookup); redirects are not followed; 10 s at most; 1 KiB read.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { addressRefusal, literalAddress } from "./addressPolicy.ts";
import { checkEndpointUrl, type TargetPolicy } from "./endpointUrl.ts";

/** Whole attempt: lookup, connect, request, response head and the bytes read. */
export const ATTEMPT_TIMEOUT_MS = 10_000; // 10 seconds
/** Of a response body, at most this much is read (and kept). */
export const RESPONSE_BYTES = 1_024;

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, order: "verbatim" }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export interface SendOptions {
  policy: TargetPolicy;
  timeoutMs?: number;
  /** How host names become addresses (tests use their own; the default is the system's resolver). */
  resolve?: Resolve;
}

export interface AttemptResult {
  ok: boolean;
  /** The response's HTTP status, when one came. */
  status?: number;
  /** The response body's first RESPONSE_BYTES bytes, as text. */
  body?: string;
  /** Why the attempt failed; undefined when it succeeded (2xx). */
  error?: string;
  /** The target was refused before anything was sent. */
  refused?: boolean;
}

/** The first RESPONSE_BYTES bytes as text that itself fits in RESPONSE_BYTES (no split character, no NUL). */
export function firstKiB(bytes: Buffer): string {
  let text = bytes.subarray(0, RESPONSE_BYTES).toString("utf8").replaceAll("\u0000", "");
  while (Buffer.byteLength(text) > RESPONSE_BYTES) text = text.slice(0, -1);
  return text;
}

function refused(error: string): AttemptResult {
  return { ok: false, refused: true, error };
}

/** A `lookup` for node:net that answers with the one address already checked. */
function pinnedLookup(address: LookupAddress) {
  return (_hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  };
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (!(e instanceof Error)) return String(error);
  return e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message || e.code || e.name;
}

export async function sendWebhook(target: string, body: string, headers: Record<string, string>, options: SendOptions): Promise<AttemptResult> {
  const checked = checkEndpointUrl(target, options.policy);
  if ("problem" in checked) return refused(`refused: ${checked.problem}`);
  const { url } = checked;
  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const timedOut = `no response within ${timeoutMs / 1000} s`;

  const host = literalAddress(url.hostname);
  let addresses: LookupAddress[];
  if (host !== undefined) addresses = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  else {
    try {
      addresses = await Promise.race([
        (options.resolve ?? systemResolve)(url.hostname),
        new Promise<never>((_, reject) => deadline.addEventListener("abort", () => reject(new Error(timedOut)), { once: true })),
      ]);
    } catch (error) {
      return { ok: false, error: deadline.aborted ? timedOut : `cannot resolve ${url.hostname}: ${describe(error)}` };
    }
  }
  if (addresses.length === 0) return { ok: false, error: `${url.hostname} has no address` };
  if (!options.policy.allowPrivateNetworks) {
    for (const { address } of addresses) {
      const refusal = addressRefusal(address);
      // One bad address refuses the host: a name that points inside the network may not be used.
      if (refusal) {
        const what = host === undefined ? `${url.hostname} resolves to ${address}, ${refusal}` : `${address} is ${refusal}`;
        return refused(`refused: ${what}; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`);
      }
    }
  }

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    /** Set once a response head came: its status decides, even if its body never ends. */
    let answered: (() => void) | undefined;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      request.destroy();
      resolve(result);
    };
    const request = (url.protocol === "https:" ? https : http).request({
      method: "POST",
      protocol: url.protocol,
      hostname: host ?? url.hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "batchwire-webhooks", ...headers },
      lookup: pinnedLookup(addresses[0]!) as never,
      // A fresh connection per attempt: a pooled one could outlive the check it was made under.
      agent: false,
      signal: deadline,
    });
    request.on("error", (error) => {
      if (answered) answered();
      else finish({ ok: false, error: deadline.aborted ? timedOut : `connection failed: ${describe(error)}` });
    });
    request.on("response", (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let length = 0;
      const done = (answered = () => {
        const text = firstKiB(Buffer.concat(chunks));
        if (status >= 200 && status < 300) finish({ ok: true, status, body: text });
        else if (status >= 300 && status < 400) {
          finish({ ok: false, status, body: text, error: `HTTP ${status}: redirect${response.headers.location ? ` to ${response.headers.location.slice(0, 200)}` : ""} not followed` });
        } else finish({ ok: false, status, body: text, error: `HTTP ${status}` });
      });
      response.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= RESPONSE_BYTES) done(); // the rest is not read
      });
      response.on("end", done);
      response.on("error", done);
      response.on("close", done);
    });
    request.end(body);
  });
}
