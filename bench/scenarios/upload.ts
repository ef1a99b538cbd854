// upload.ts: submitBatchFile of N lines with 1 KiB inputs, and how much the API process's memory
// grows while it takes the file: its peak resident memory (VmHWM, reset just before the upload)
// over its resident memory before, against the file's size. The API runs as a process of its own
// (ROLE=api, so no worker runs the tasks meanwhile), warmed up first by an upload a tenth the size,
// as a server that has taken uploads before: V8 grows its young generation (tens of MB) once.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "../../src/client/index.ts";
import { nowMs } from "../clients.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const INPUT_BYTES = 1024;

async function writeJsonl(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  const pad = "x".repeat(INPUT_BYTES - 30);
  for (let i = 0; i < lines; i++) {
    if (!out.write(`${JSON.stringify({ customId: `t${i}`, kind: "echo", input: { i, pad } })}\n`)) {
      await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** VmRSS and VmHWM of a process, in bytes (Linux). */
async function residentMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** The API as its own process; resolves with its pid and URL once it is ready. */
async function startApi(databaseUrl: string, maxRequestBytes: number) {
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, ROLE: "api", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", MAX_REQUEST_BYTES: String(maxRequestBytes) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.split("\n").find((line) => line.includes('"batchwire ready'));
      if (ready) resolve((JSON.parse(ready) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`the API process exited with ${code}:\n${output}`)));
  });
  child.stdout.resume();
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM")))),
  };
}

export const upload: Scenario = {
  name: "upload",
  async run({ db, tasks, progress }) {
    const dir = await mkdtemp(join(tmpdir(), "batchwire-bench-upload-"));
    try {
      const file = join(dir, "tasks.jsonl");
      const warmup = join(dir, "warmup.jsonl");
      await writeJsonl(file, tasks);
      await writeJsonl(warmup, Math.ceil(tasks / 10));
      const fileBytes = (await stat(file)).size;
      const api = await startApi(await db.freshDatabase("upload"), 2 * fileBytes);
      try {
        const client = createClient({ url: api.url });
        await client.submit({ file: warmup });
        const before = await residentMemory(api.pid);
        // Writing 5 to clear_refs resets VmHWM to the current resident size (Linux 4.0+).
        await writeFile(`/proc/${api.pid}/clear_refs`, "5");
        const t0 = nowMs();
        const batch = await client.submit({ file });
        const ms = nowMs() - t0;
        const after = await residentMemory(api.pid);
        if (batch.counts.total !== tasks) throw new Error(`the upload stored ${batch.counts.total} tasks, not ${tasks}`);
        const growth = after.peak - before.rss;
        progress(`upload: ${(fileBytes / 2 ** 20).toFixed(0)} MiB in ${(ms / 1000).toFixed(1)} s; API memory ${(before.rss / 2 ** 20).toFixed(0)} → peak ${(after.peak / 2 ** 20).toFixed(0)} MiB`);
        const rows: Row[] = [
          {
            id: "upload.memoryGrowth",
            figure: `upload: API memory growth, submitBatchFile of ${tasks.toLocaleString("en-US")} × 1 KiB (vs file size)`,
            unit: "MiB",
            value: growth / 2 ** 20,
            baseline: fileBytes / 2 ** 20,
            ratio: growth / fileBytes,
            target: "well under 2x (≤ 1.5x)",
            met: growth / fileBytes <= 1.5,
          },
          {
            id: "upload.tasksPerSecond",
            figure: "upload: submitBatchFile request → batch stored",
            unit: "tasks/s",
            value: (tasks * 1000) / ms,
            target: "",
          },
        ];
        return { rows, details: { fileBytes, before, after, ms } };
      } finally {
        await api.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
