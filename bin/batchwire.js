#!/usr/bin/env node
// batchwire.js: the `batchwire` command. A checkout runs its TypeScript sources, which Node runs
// as they are; an installed package has no sources, and Node strips no types under node_modules
// anyway: it runs the JavaScript that `npm pack` built into dist/.
import { existsSync } from "node:fs";

const sources = new URL("../src/cli/main.ts", import.meta.url);
await import(existsSync(sources) ? sources.href : new URL("../dist/cli/main.js", import.meta.url).href);
