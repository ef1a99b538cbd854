// dependencyAdvisories.test.ts: the lock file pins ws, graphql and graphql-yoga past their
// published advisories (`npm audit --omit=dev` checks the rest where the registry offers it).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8")) as {
  packages: Record<string, { version: string; dev?: boolean }>;
};

/** Every version of `name` the lock file installs, nested copies included. */
function installed(name: string): string[] {
  return Object.entries(lock.packages)
    .filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`))
    .map(([, entry]) => entry.version);
}

function atLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.-]/).slice(0, 3).map(Number);
  const b = minimum.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

// The first release that fixes the latest advisory of each, by major line in use.
const PATCHED: Record<string, { advisory: string; fixedIn: string }> = {
  // GHSA-3h5v-q93c-6h6q (CVE-2024-37890): DoS through many HTTP headers.
  ws: { advisory: "GHSA-3h5v-q93c-6h6q", fixedIn: "8.17.1" },
  // GHSA-9pv7-vfvm-6vr7 (CVE-2023-26144): DoS in OverlappingFieldsCanBeMergedRule.
  graphql: { advisory: "GHSA-9pv7-vfvm-6vr7", fixedIn: "16.8.1" },
  // The security release of August 2026 (graphql-yoga 5.21.3).
  "graphql-yoga": { advisory: "release-1786610592790", fixedIn: "5.21.3" },
};

describe("dependencies past their advisories", () => {
  for (const [name, { advisory, fixedIn }] of Object.entries(PATCHED)) {
    it(`${name} is at least ${fixedIn} (${advisory})`, () => {
      const versions = installed(name);
      expect(versions.length).toBeGreaterThan(0);
      for (const version of versions) expect(atLeast(version, fixedIn), `${name}@${version}`).toBe(true);
    });
  }
});
