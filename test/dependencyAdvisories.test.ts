// dependencyAdvisories.test.ts: the lock file installs every production package that has had a
// high or moderate advisory past its latest one. The registry this project is built against has
// no audit endpoint (`npm audit` gets 405), so the list was made by hand from the GitHub Advisory
// Database (November 2026; see SECURITY.md) and `npm audit --omit=dev` checks the rest where it can.
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
  // GHSA-96hv-2xvq-fx4p (CVE-2026-48779, high); before it GHSA-58qx-3vcg-4xpx (8.20.1) and
  // GHSA-3h5v-q93c-6h6q (CVE-2024-37890, DoS through many HTTP headers, 8.17.1).
  ws: { advisory: "GHSA-96hv-2xvq-fx4p", fixedIn: "8.21.0" },
  // GHSA-9pv7-vfvm-6vr7 (CVE-2023-26144): DoS in OverlappingFieldsCanBeMergedRule.
  graphql: { advisory: "GHSA-9pv7-vfvm-6vr7", fixedIn: "16.8.1" },
  // The security release of August 2026 (graphql-yoga 5.21.3; no GHSA id was published).
  "graphql-yoga": { advisory: "release-1786610592790", fixedIn: "5.21.3" },
  // GHSA-224p-v68g-5g8f and GHSA-hmfr-rx46-4jx2: depth limit bypasses.
  "@escape.tech/graphql-armor-max-depth": { advisory: "GHSA-224p-v68g-5g8f", fixedIn: "2.4.2" },
  // Through node-pg-migrate's glob: a run of ReDoS advisories in 2026, the latest GHSA-q2hr-2g5m-vwhr.
  "brace-expansion": { advisory: "GHSA-q2hr-2g5m-vwhr", fixedIn: "5.0.12" },
  // GHSA-7r86-cg39-jmmj and GHSA-23c5-xmqv-rm74 (ReDoS).
  minimatch: { advisory: "GHSA-7r86-cg39-jmmj", fixedIn: "10.2.3" },
  // GHSA-36hm-qxxp-pg3m (CVE-2026-22028): JSON VNode injection, 10.26.5 to 10.28.1. The dashboard's page.
  preact: { advisory: "GHSA-36hm-qxxp-pg3m", fixedIn: "10.28.2" },
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
