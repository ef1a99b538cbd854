// cli.test.ts: `batchwire` as a real process through pipes: plain lines instead of a bar, the
// exit codes (0 done, 2 finished with failures, 1 error with one readable stderr line), and a file
// that goes in, runs and comes back out line for line.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "./helpers/auth.ts";
import { runCli } from "./helpers/cli.ts";
import type { TestDatabase } from "./helpers/database.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let db: TestDatabase;
let server: TestServer;
serverForFile({ workerConcurrency: 4 }, (file) => ({ db, server } = file));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "batchwire-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ BATCHWIRE_URL: `http://127.0.0.1:${server.app.port}` });
async function file(name: string, lines: unknown[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n") + "\n");
  return path;
}
const UUID = /^[0-9a-f-]{36}$/;

describe("batchwire through a pipe", () => {
  it("submit --wait prints the id, plain progress lines (at most two a second), a summary, and exits 0", async () => {
    const tasks = await file("sleeps.jsonl", Array.from({ length: 16 }, (_, i) => ({ customId: `s${i}`, input: { ms: 250 } })));
    const run = await runCli(["submit", tasks, "--kind", "sleep", "--wait"], env());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(UUID);
    expect(run.stdout).not.toContain("\u001b["); // no terminal control codes: no bar
    const progress = lines.slice(1, -1);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const line of progress) expect(line).toMatch(/^(QUEUED|RUNNING|COMPLETED) \d+\/16 \d+% succeeded \d+ failed 0 running \d+ [\d.]+\/s ETA (\d+s|\?)$/);
    expect(progress.at(-1)).toMatch(/^COMPLETED 16\/16 100% succeeded 16 /);
    expect(lines.at(-1)).toMatch(/^COMPLETED in [\d.]+s: 16 succeeded, 0 failed, 0 canceled, 0 expired of 16$/);
    // The progress lines are at least 500 ms apart (a few a second at most), the last one excepted.
    const times = run.lineTimes.slice(1, -2);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(450);
  });

  it("exits 2 when the waited batch finished with failed tasks, and `watch` does the same", async () => {
    const tasks = await file("fails.jsonl", [{ kind: "echo", input: 1 }, { kind: "fail", input: { times: 5, message: "nope" } }]);
    const run = await runCli(["submit", tasks, "--wait", "--priority", "5", "--metadata", '{"by":"cli"}'], env());
    expect(run.code).toBe(2);
    const id = run.stdout.split("\n")[0]!;
    expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(/^COMPLETED in [\d.]+s: 1 succeeded, 1 failed, 0 canceled, 0 expired of 2$/);
    const watched = await runCli(["watch", id, "--json"], env());
    expect(watched.code).toBe(2);
    const last = JSON.parse(watched.stdout.trimEnd().split("\n").at(-1)!) as { id: string; priority: number; metadata: unknown; counts: { failed: number } };
    expect(last).toMatchObject({ id, priority: 5, metadata: { by: "cli" }, counts: { failed: 1 } });

    const retried = await runCli(["retry", id], env());
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(new RegExp(`^${id}\tRUNNING\t`));
  });

  it("round-trips a file: submitted, run, and downloaded with `results -o` line for line", async () => {
    const inputs = Array.from({ length: 300 }, (_, i) => ({ customId: `row-${i}`, kind: "echo", input: { row: i, text: `línea ${i}` } }));
    const tasks = await file("echo.jsonl", inputs);
    const submitted = await runCli(["submit", tasks, "--wait", "--idempotency-key", "round-trip", "--window", "600"], env());
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.split("\n")[0]!;
    const out = join(dir, "results.jsonl");
    const saved = await runCli(["results", id, "-o", out], env());
    expect(saved.code).toBe(0);
    expect(saved.stdout).toBe(`wrote 300 lines to ${out}\n`);
    const results = (await readFile(out, "utf8")).trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(results).toHaveLength(inputs.length);
    results.forEach((result, i) => {
      expect(result).toEqual({ index: i, customId: inputs[i]!.customId, kind: "echo", status: "SUCCEEDED", attempts: 1, result: inputs[i]!.input, error: null });
    });
    // Through stdout, filtered.
    const failed = await runCli(["results", id, "--status", "FAILED"], env());
    expect(failed).toMatchObject({ code: 0, stdout: "" });
    const all = await runCli(["results", id], env());
    expect(all.stdout).toBe(await readFile(out, "utf8"));
  });

  it("answers --json on list, kinds, cancel and submit, and lists by status", async () => {
    const tasks = await file("long.jsonl", [{ kind: "sleep", input: { ms: 60_000 } }]);
    const submitted = await runCli(["submit", tasks, "--json"], env());
    const batch = JSON.parse(submitted.stdout) as { id: string; status: string };
    expect(batch.status).toBe("QUEUED");
    const canceled = await runCli(["cancel", batch.id, "--json"], env());
    expect(["CANCELING", "CANCELED"]).toContain((JSON.parse(canceled.stdout) as { status: string }).status);
    const listed = await runCli(["list", "--json", "--first", "3"], env());
    expect((JSON.parse(listed.stdout) as { id: string }[])[0]!.id).toBe(batch.id);
    const completed = await runCli(["list", "--status", "COMPLETED"], env());
    expect(completed.stdout).not.toContain(batch.id);
    const kinds = await runCli(["kinds", "--json"], env());
    expect((JSON.parse(kinds.stdout) as { name: string }[]).map((kind) => kind.name)).toEqual(["echo", "fail", "sha256", "sleep"]);
  });

  it("exits 1 with one readable stderr line: a bad file line, a refused connection, a bad key, a usage mistake", async () => {
    const bad = await file("bad.jsonl", [{ kind: "echo", input: 1 }, "{oops", { kind: "echo", input: 2, customId: "x" }, { input: 3 }]);
    const badLine = await runCli(["submit", bad], env());
    expect(badLine).toMatchObject({ code: 1, stdout: "" });
    expect(badLine.stderr).toMatch(/^batchwire: line 2: invalid JSON: .+ \(2 bad in all\)\n$/);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await runCli(["list"], { BATCHWIRE_URL: `http://127.0.0.1:${port}` });
    expect(refused).toMatchObject({ code: 1, stderr: `batchwire: cannot reach http://127.0.0.1:${port}/graphql: connection refused\n` });

    const badKey = await runCli(["kinds", "--key", `bw_${"Q".repeat(43)}`], env());
    expect(badKey).toMatchObject({ code: 1, stderr: "batchwire: the API key is unknown or revoked (set BATCHWIRE_KEY or --key)\n" });

    const missing = await runCli(["submit", join(dir, "nowhere.jsonl")], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr.split("\n")[0]).toContain("nowhere.jsonl");
    const unknown = await runCli(["watch", "00000000-0000-4000-8000-000000000000"], env());
    expect(unknown).toMatchObject({ code: 1, stderr: "batchwire: batch 00000000-0000-4000-8000-000000000000 not found (NOT_FOUND)\n" });
    const usage = await runCli(["results"], env());
    expect(usage.code).toBe(1);
    expect(usage.stderr.split("\n")[0]).toBe("batchwire: missing required argument 'id'");
  });

  it("takes the key from BATCHWIRE_KEY, and manages keys with `batchwire keys` (as `npm run keys`)", async () => {
    const created = await runCli(["keys", "create", "--tenant", "cli", "--json"], { DATABASE_URL: db.url });
    expect(created.code).toBe(0);
    const { key, tenant } = JSON.parse(created.stdout) as { key: string; tenant: string };
    expect(tenant).toBe("cli");
    // Keys exist now: the server wants one.
    expect((await runCli(["list"], env())).code).toBe(1);
    const listed = await runCli(["list", "--json"], { ...env(), BATCHWIRE_KEY: key });
    expect(listed).toMatchObject({ code: 0, stdout: "[]\n" });
  });
});
