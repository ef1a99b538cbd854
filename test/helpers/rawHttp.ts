// rawHttp.ts: HTTP/1.1 over a bare node:net socket, so a test controls the framing exactly
// (conflicting headers, chunk boundaries, a body that never ends) and sees what the server
// answers while the body is still open.
import { connect, type Socket } from "node:net";
import { waitFor } from "./server.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  socket: Socket;
  /** Writes, respecting backpressure; false once the server has closed its side. */
  write(data: string | Buffer): Promise<boolean>;
  /** The first complete response, or a timeout error. */
  response(timeoutMs?: number): Promise<RawResponse>;
  closed: Promise<void>;
  end(): void;
}

function parse(raw: Buffer): RawResponse | undefined {
  const headerEnd = raw.indexOf("\r\n\r\n");
  if (headerEnd < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, headerEnd).toString("latin1").split("\r\n");
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  const length = Number(headers["content-length"] ?? NaN);
  const body = raw.subarray(headerEnd + 4);
  if (Number.isFinite(length) && body.length < length) return undefined;
  if (!Number.isFinite(length) && headers["transfer-encoding"] === "chunked") {
    // Enough for the tests: a chunked answer is complete at its last chunk.
    if (!body.includes("\r\n0\r\n\r\n") && !body.subarray(0, 5).equals(Buffer.from("0\r\n\r\n"))) return undefined;
    const text = body.toString("utf8").replace(/(?:^|\r\n)[0-9a-f]+\r\n/g, "").replace(/\r\n$/, "");
    return { status: Number(statusLine!.split(" ")[1]), headers, body: text };
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body: body.subarray(0, Number.isFinite(length) ? length : body.length).toString("utf8") };
}

/** Opens a socket to `url`'s host and port and sends `head` (request line and headers, ending in a blank line). */
export async function rawExchange(url: string, head: string): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => undefined);
  let received = Buffer.alloc(0);
  let ended = false;
  socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  void closed.then(() => (ended = true));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(head);
  return {
    socket,
    closed,
    end: () => socket.destroy(),
    write: async (data) => {
      if (ended || socket.destroyed || !socket.writable) return false;
      if (socket.write(data)) return true;
      await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), closed]);
      return !ended && socket.writable;
    },
    response: (timeoutMs = 10_000) =>
      waitFor(() => parse(received) ?? (ended ? Promise.reject(new Error(`closed without a response: ${JSON.stringify(received.toString("latin1").slice(0, 200))}`)) : undefined), timeoutMs, "an HTTP response"),
  };
}

/** A request line and headers for POST `url`. */
export function requestHead(url: string, headers: Record<string, string>): string {
  const { pathname, host } = new URL(url);
  const lines = [`POST ${pathname} HTTP/1.1`, `host: ${host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** One chunk in chunked transfer encoding. */
export function chunk(data: string | Buffer): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")]);
}

export const LAST_CHUNK = "0\r\n\r\n";
