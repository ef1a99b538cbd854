// requestGate.test.ts: nothing of a request's body is read before its key is checked: a request
// without a valid key is answered 401 from its headers alone, whatever its framing and however
// much body is still to come; MAX_REQUEST_BYTES is the one body limit, exact in both directions,
// chunked or not, with PAYLOAD_TOO_LARGE (413); conflicting framing is a 400 at once.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { createKey, revokeKey, type TestKey } from "./helpers/auth.ts";
import { serverForFile, type FileServer } from "./helpers/serverForFile.ts";
import { chunk, LAST_CHUNK, rawExchange, requestHead, type RawExchange } from "./helpers/rawHttp.ts";

// Not a round number, and above yoga's own 25 MB default, which must not apply instead.
const MAX_REQUEST_BYTES = 26_000_001;

let file: FileServer;
let key: TestKey;
let revoked: TestKey;
serverForFile({ production: true, role: "api", maxRequestBytes: MAX_REQUEST_BYTES }, (started) => (file = started));

beforeAll(async () => {
  key = await createKey(file.db.pool, "acme");
  revoked = await createKey(file.db.pool, "acme");
  await revokeKey(file.db.pool, revoked);
});

const QUERY = `{"query":"{ taskKinds { name } }"`;
/** A valid GraphQL request of exactly `bytes` bytes (JSON allows the padding). */
const bodyOf = (bytes: number) => Buffer.from(`${QUERY}${" ".repeat(bytes - QUERY.length - 1)}}`);

const json = { "content-type": "application/json" };
const framings = {
  chunked: (bytes: number) => ({ "transfer-encoding": "chunked", _bytes: String(bytes) }),
  "content-length": (bytes: number) => ({ "content-length": String(bytes), _bytes: String(bytes) }),
};

/** Sends the head and the first `sent` bytes of a `total`-byte body in `framing`, then waits (the body is not finished). */
async function startUpload(framing: keyof typeof framings, headers: Record<string, string>, total: number, sent: number): Promise<RawExchange> {
  const { _bytes, ...framingHeaders } = framings[framing](total);
  void _bytes;
  const exchange = await rawExchange(file.server.url, requestHead(file.server.url, { ...json, ...headers, ...framingHeaders }));
  // An empty chunk would end a chunked body.
  if (sent > 0) await exchange.write(framing === "chunked" ? chunk(Buffer.alloc(sent, " ")) : Buffer.alloc(sent, " "));
  return exchange;
}

describe("a request without a valid key", () => {
  const credentials: Record<string, Record<string, string>> = {
    "no key": {},
    "a malformed key": { authorization: "Basic dXNlcjpwYXNz" },
    "an unknown key": { authorization: "Bearer bw_0000000000000000000000000000000000000000000" },
    "a revoked key": {},
  };

  for (const framing of Object.keys(framings) as (keyof typeof framings)[]) {
    for (const [what, headers] of Object.entries(credentials)) {
      it(`is answered 401 from its headers while its ${framing} body is still coming (${what})`, async () => {
        const presented = what === "a revoked key" ? { authorization: `Bearer ${revoked.key}` } : headers;
        // The declared body is far larger than the server would ever buffer, and never finished.
        const upload = await startUpload(framing, presented, MAX_REQUEST_BYTES, 64 * 1024);
        try {
          const response = await upload.response();
          expect(response.status).toBe(401);
          expect(response.headers.connection).toBe("close");
          expect(JSON.parse(response.body)).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
          // And the server ends the connection instead of reading on.
          await upload.closed;
        } finally {
          upload.end();
        }
      });
    }
  }

  it("costs the server no memory for its body: 40 keyless uploads of 4 MiB each", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const used = () => {
      gc();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const before = used();
    const piece = chunk(Buffer.alloc(64 * 1024, "x"));
    const uploads = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const upload = await startUpload("chunked", {}, 0, 1);
        // Up to 4 MiB each, as long as the server lets it in.
        for (let sent = 0; sent < 4 * 1024 * 1024; sent += piece.length) if (!(await upload.write(piece))) break;
        return upload;
      }),
    );
    try {
      const statuses = await Promise.all(uploads.map(async (upload) => (await upload.response()).status));
      expect(new Set(statuses)).toEqual(new Set([401]));
      // 160 MiB were offered; reading them before the key check kept them all.
      expect(used() - before).toBeLessThan(32 * 1024 * 1024);
    } finally {
      for (const upload of uploads) upload.end();
    }
  });
});

describe("MAX_REQUEST_BYTES", () => {
  const authorized = () => ({ authorization: `Bearer ${key.key}` });

  /** Sends a whole body split at the given offsets, chunked or with a Content-Length. */
  async function send(framing: keyof typeof framings, body: Buffer, cuts: number[]): Promise<{ status: number; body: string; headers: Record<string, string> }> {
    const { _bytes, ...framingHeaders } = framings[framing](body.length);
    void _bytes;
    const exchange = await rawExchange(file.server.url, requestHead(file.server.url, { ...json, ...authorized(), ...framingHeaders }));
    try {
      const offsets = [0, ...cuts.filter((cut) => cut > 0 && cut < body.length).sort((a, b) => a - b), body.length];
      for (let i = 0; i + 1 < offsets.length; i++) {
        const part = body.subarray(offsets[i], offsets[i + 1]);
        if (!(await exchange.write(framing === "chunked" ? chunk(part) : part))) break;
      }
      if (framing === "chunked") await exchange.write(LAST_CHUNK);
      return await exchange.response(30_000);
    } finally {
      exchange.end();
    }
  }

  for (const framing of Object.keys(framings) as (keyof typeof framings)[]) {
    it(`accepts a ${framing} body of exactly the limit and refuses one byte more with PAYLOAD_TOO_LARGE`, async () => {
      // Chunk boundaries: one piece; the last byte alone; a 1-byte chunk at the limit; many small ones.
      const splits = (size: number) => [[], [size - 1], [MAX_REQUEST_BYTES - 1, MAX_REQUEST_BYTES], Array.from({ length: 50 }, (_, i) => Math.floor((size * (i + 1)) / 51))];
      for (const cuts of framing === "chunked" ? splits(MAX_REQUEST_BYTES + 1) : [[]]) {
        const atLimit = await send(framing, bodyOf(MAX_REQUEST_BYTES), cuts);
        expect(atLimit.status, `at the limit, cuts ${cuts.length}`).toBe(200);
        expect(JSON.parse(atLimit.body)).toMatchObject({ data: { taskKinds: expect.any(Array) } });

        const over = await send(framing, bodyOf(MAX_REQUEST_BYTES + 1), cuts);
        expect(over.status, `one over, cuts ${cuts.length}`).toBe(413);
        expect(JSON.parse(over.body)).toMatchObject({
          errors: [{ message: expect.stringContaining("MAX_REQUEST_BYTES"), extensions: { code: "PAYLOAD_TOO_LARGE", maxRequestBytes: MAX_REQUEST_BYTES } }],
        });
      }
    });
  }

  it("refuses a chunked body as soon as it passes the limit, before it ends", async () => {
    const upload = await startUpload("chunked", authorized(), 0, 0);
    try {
      const piece = chunk(Buffer.alloc(1024 * 1024, " "));
      for (let sent = 0; sent <= MAX_REQUEST_BYTES; sent += 1024 * 1024) if (!(await upload.write(piece))) break;
      // The body is never finished: the answer comes from the count alone.
      const response = await upload.response();
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body)).toMatchObject({ errors: [{ extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
    } finally {
      upload.end();
    }
  });
});

describe("conflicting framing", () => {
  const conflicting: [string, Record<string, string>][] = [
    ["Content-Length then Transfer-Encoding: chunked", { "content-length": "40", "transfer-encoding": "chunked" }],
    ["Transfer-Encoding: chunked then Content-Length", { "transfer-encoding": "chunked", "content-length": "40" }],
    ["Content-Length with Transfer-Encoding: gzip, chunked", { "content-length": "40", "transfer-encoding": "gzip, chunked" }],
    ["Content-Length with Transfer-Encoding: identity", { "content-length": "40", "transfer-encoding": "identity" }],
    ["Content-Length 0 with Transfer-Encoding: chunked", { "content-length": "0", "transfer-encoding": "chunked" }],
  ];
  for (const [what, headers] of conflicting) {
    for (const keyed of [true, false]) {
      it(`answers ${what} with 400 at once, before any body (${keyed ? "with" : "without"} a key)`, async () => {
        const exchange = await rawExchange(file.server.url, requestHead(file.server.url, { ...json, ...(keyed ? { authorization: `Bearer ${key.key}` } : {}), ...headers }));
        try {
          const response = await exchange.response();
          expect(response.status).toBe(400);
          expect(response.headers.connection).toBe("close");
          expect(JSON.parse(response.body)).toMatchObject({ errors: [{ extensions: { code: "BAD_REQUEST" } }] });
        } finally {
          exchange.end();
        }
      });
    }
  }
});
