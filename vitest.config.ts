// vitest.config.ts: one embedded (or TEST_DATABASE_URL) Postgres for the run; a database per file.
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS ("main") and ESM ("module") copies. Node loads the CJS one for every
    // importer; Vite would hand our sources the ESM one, and a second GraphQLError class
    // breaks yoga's `instanceof` checks. Pin the one Node uses.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/globalSetup.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Files share two cores with Postgres and their own servers.
    maxWorkers: 2,
  },
});
