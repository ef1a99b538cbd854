// uploads.ts: GraphQL multipart requests (the spec yoga follows: an `operations` part, a `map`
// part, then the files) read as they stream in. yoga's own parser reads every file into memory
// before the operation starts; here the operation starts once its file begins, and the resolver
// pulls the file through the request body, so the body is held a chunk at a time.
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Busboy, type BusboyFileStream } from "@fastify/busboy";
import { GraphQLError } from "graphql";
import type { GraphQLParams, Plugin } from "graphql-yoga";
import { clientError, ErrorCode } from "../errors.ts";
import type { UploadedFile } from "../batches/submitFile.ts";

export interface UploadOptions {
  /** MAX_REQUEST_BYTES: the most read of one request, and so of its `operations` part. */
  maxRequestBytes: number;
}

/** A file of an upload: readable once, as it arrives. */
class StreamedFile implements UploadedFile {
  readonly #stream: BusboyFileStream;
  readonly name: string;
  readonly type: string;
  #taken = false;

  constructor(stream: BusboyFileStream, name: string, type: string) {
    this.#stream = stream;
    this.name = name;
    this.type = type;
  }

  stream(): AsyncIterable<Uint8Array> {
    if (this.#taken) throw new Error("an uploaded file can be read only once");
    this.#taken = true;
    return this.#stream;
  }

  /** Reads and drops what is left of it, so the request ends and its connection can be reused. */
  discard(): void {
    if (!this.#stream.readableEnded && !this.#stream.destroyed) this.#stream.resume();
  }

  fail(error: Error): void {
    if (!this.#stream.readableEnded) this.#stream.destroy(error);
  }
}

function badRequest(message: string): GraphQLError {
  return clientError(ErrorCode.BAD_USER_INPUT, message, { http: { status: 400 } });
}

function tooLarge(maxRequestBytes: number): GraphQLError {
  return clientError(ErrorCode.PAYLOAD_TOO_LARGE, `the request body exceeds ${maxRequestBytes} bytes (MAX_REQUEST_BYTES)`, {
    maxRequestBytes,
    http: { status: 413 },
  });
}

function parseJsonPart(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`the multipart part "${name}" is not valid JSON`);
  }
}

/** `map` names each file part's places in `operations`; one file per request is streamed. */
function parseMap(value: unknown): Map<string, string[]> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw badRequest('the multipart part "map" must be a JSON object');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 1) throw badRequest("a request carries at most one file");
  for (const [, paths] of entries) {
    if (!Array.isArray(paths) || !paths.every((path) => typeof path === "string")) {
      throw badRequest('the multipart part "map" must map each file to an array of paths');
    }
  }
  return new Map(entries as [string, string[]][]);
}

const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Puts `file` at a dotted path ("variables.input.file") inside `operations`, which must lead there. */
function place(operations: unknown, path: string, file: UploadedFile): void {
  const keys = path.split(".");
  let node = operations as Record<string, unknown>;
  for (const [i, key] of keys.entries()) {
    if (UNSAFE_KEYS.has(key) || node === null || typeof node !== "object" || !Object.hasOwn(node, key)) {
      throw badRequest(`the map's path "${path}" names no variable of the operation`);
    }
    if (i === keys.length - 1) node[key] = file;
    else node = node[key] as Record<string, unknown>;
  }
}

/** Parses one request; `discard()` drops the unread rest of its file once the response is made. */
function multipartRequest(options: UploadOptions) {
  let file: StreamedFile | undefined;
  const parse = (parsed: Request) =>
    new Promise<GraphQLParams>((resolve, reject) => {
      let operations: unknown;
      let map: Map<string, string[]> | undefined;
      let settled = false;
      const fail = (error: unknown) => {
        if (!settled) reject(error);
        settled = true;
      };
      const busboy = new Busboy({
        headers: { "content-type": parsed.headers.get("content-type") ?? "" },
        // Every part but these two is a file, whether or not its sender gave it a filename.
        isPartAFile: (name) => name !== "operations" && name !== "map",
        limits: { fieldSize: options.maxRequestBytes, fields: 2, files: 1 },
      });
      busboy.on("field", (name, value, _nameTruncated, valueTruncated) => {
        if (settled) return;
        if (valueTruncated) return fail(tooLarge(options.maxRequestBytes));
        try {
          if (name === "operations") operations = parseJsonPart(name, value);
          else map = parseMap(parseJsonPart(name, value));
        } catch (error) {
          fail(error);
        }
      });
      busboy.on("file", (name, stream, filename, _encoding, mimeType) => {
        if (settled || file) return void stream.resume();
        file = new StreamedFile(stream, filename ?? name, mimeType);
        if (operations === undefined || map === undefined) return fail(badRequest('the "operations" and "map" parts must come before the file'));
        const paths = map.get(name);
        if (!paths) return fail(badRequest(`the file part "${name}" is not in "map"`));
        try {
          for (const path of paths) place(operations, path, file);
        } catch (error) {
          return fail(error);
        }
        settled = true;
        // The operation runs now, while the file is still arriving.
        resolve(operations as GraphQLParams);
      });
      busboy.on("finish", () => {
        if (operations === undefined) return fail(badRequest('a multipart request needs an "operations" part'));
        if (map && map.size > 0) return fail(badRequest("the file named in \"map\" never came"));
        settled = true;
        resolve(operations as GraphQLParams);
      });
      busboy.on("filesLimit", () => fail(badRequest("a request carries at most one file")));
      busboy.on("fieldsLimit", () => fail(badRequest('a multipart request has only the "operations" and "map" parts besides its file')));
      if (!parsed.body) return fail(badRequest("the multipart request has no body"));
      // pipeline, not pipe: a body that breaks off (client gone, size limit) fails the file's reader.
      let read = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          read += chunk.length;
          done(read > options.maxRequestBytes ? tooLarge(options.maxRequestBytes) : null, chunk);
        },
      });
      pipeline(Readable.from(parsed.body as unknown as AsyncIterable<Uint8Array>), limit, busboy).catch((error: unknown) => {
        const reason = error instanceof Error ? error : new Error(String(error));
        file?.fail(reason);
        fail(reason instanceof GraphQLError ? reason : badRequest(`the multipart request could not be read: ${reason.message}`));
      });
    });
  return { parse, discard: () => file?.discard() };
}

export function useStreamingUploads(options: UploadOptions): Plugin {
  const uploads = new WeakMap<Request, { discard(): void }>();
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== "POST" || !request.headers.get("content-type")?.toLowerCase().startsWith("multipart/form-data")) return;
      const upload = multipartRequest(options);
      uploads.set(request, upload);
      setRequestParser(upload.parse);
    },
    onResponse({ request }) {
      uploads.get(request)?.discard();
    },
  };
}
