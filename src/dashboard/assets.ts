// assets.ts: the dashboard's files, and only those: its own modules (src/dashboard/app/) and the
// browser builds of the few packages they import (Preact, htm, graphql-ws's client), read into
// memory once, gzipped once, and addressed under one version derived from their contents.
//
// Nothing is looked up on disk per request, so no request path can reach any other file.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
}

export interface Assets {
  /** Changes whenever any file does: the URL prefix of every asset, so each may be cached for good. */
  version: string;
  /** By name, such as "app/main.js" or "vendor/preact.mjs". */
  files: Map<string, Asset>;
  /** The import map's `imports`: bare specifiers to vendor names. */
  imports: Record<string, string>;
}

const APP_DIR = fileURLToPath(new URL("./app/", import.meta.url));

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The bare specifiers the dashboard's modules import, and the name each is served under. */
const VENDOR: Record<string, string> = {
  preact: "vendor/preact/preact.mjs",
  "preact/hooks": "vendor/preact/hooks.mjs",
  htm: "vendor/htm/htm.mjs",
  "htm/preact": "vendor/htm/preact.mjs",
  "graphql-ws": "vendor/graphql-ws/client.js",
};

/** The browser-ready ESM file Node resolves a specifier to (its "import" condition). */
function resolvedFile(specifier: string): string {
  // graphql-ws's package root is its server; its client has an export of its own.
  return fileURLToPath(import.meta.resolve(specifier === "graphql-ws" ? "graphql-ws/client" : specifier));
}

function typeOf(name: string): string {
  const type = TYPES[name.slice(name.lastIndexOf("."))];
  if (!type) throw new Error(`the dashboard serves no file like ${name}`);
  return type;
}

/** Relative imports (`from './common-x.js'`) of a built module: siblings it needs served too. */
function siblingImports(source: string): string[] {
  return [...source.matchAll(/(?:from|import)\s*["']\.\/([\w.-]+\.m?js)["']/g)].map((match) => match[1]!);
}

export function loadAssets(): Assets {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(APP_DIR)) {
    typeOf(name);
    files.set(`app/${name}`, readFileSync(join(APP_DIR, name)));
  }
  for (const [specifier, name] of Object.entries(VENDOR)) {
    const path = resolvedFile(specifier);
    const pending = [{ path, name }];
    for (let next = pending.pop(); next; next = pending.pop()) {
      if (files.has(next.name)) continue;
      const body = readFileSync(next.path);
      files.set(next.name, body);
      for (const sibling of siblingImports(body.toString("utf8"))) {
        pending.push({ path: join(dirname(next.path), sibling), name: join(dirname(next.name), basename(sibling)) });
      }
    }
  }
  const hash = createHash("sha256");
  for (const [name, body] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(name).update("\0").update(body);
  return {
    version: hash.digest("hex").slice(0, 12),
    files: new Map([...files].map(([name, body]) => [name, { body, gzip: gzipSync(body, { level: 9 }), type: typeOf(name) }])),
    imports: { ...VENDOR },
  };
}
