// build.ts: the JavaScript an installed package runs (`npm pack` runs this: prepack), since Node
// strips no types under node_modules: src/ compiled into dist/ by tsc (tsconfig.build.json), and
// src/'s other files (the dashboard's browser modules and styles) copied beside it.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
cpSync(`${root}src`, dist, { recursive: true, filter: (path) => statSync(path).isDirectory() || !path.endsWith(".ts") });
