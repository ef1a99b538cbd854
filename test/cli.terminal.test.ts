// cli.terminal.test.ts: `batchwire submit --wait` in a real terminal (a tmux pane, 120 × 30): a
// live progress bar that moves, reaches 100%, and the summary under it.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { BIN } from "./helpers/cli.ts";
import { waitFor, type TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

const run = promisify(execFile);

let server: TestServer;
serverForFile({ workerConcurrency: 4 }, (file) => ({ server } = file));

it("submit --wait draws a live bar in a terminal that reaches 100%, then the summary, and exits 0", async () => {
  const dir = await mkdtemp(join(tmpdir(), "batchwire-tty-"));
  // A tmux server of this test's own (-L), with a config that keeps the pane after the command.
  const tmux = (...args: string[]) => run("tmux", ["-L", `batchwire-test-${process.pid}`, "-f", join(dir, "tmux.conf"), ...args]);
  try {
    await writeFile(join(dir, "tmux.conf"), "set -g remain-on-exit on\nset -g status off\n");
    const tasks = join(dir, "tasks.jsonl");
    await writeFile(tasks, Array.from({ length: 24 }, (_, i) => JSON.stringify({ customId: `t${i}`, input: { ms: 250 } })).join("\n"));
    // A shell in the pane, and the command typed into it, as a person would.
    await tmux("new-session", "-d", "-s", "cli", "-x", "120", "-y", "30", "-e", `BATCHWIRE_URL=http://127.0.0.1:${server.app.port}`, "-e", "PS1=$ ", "sh");
    // Type only once the shell shows its prompt: keys sent earlier are echoed before the prompt
    // and the screen no longer reads as a person would see it.
    await waitFor(async () => (/^[$#]/m.test((await tmux("capture-pane", "-p", "-t", "cli")).stdout) ? true : undefined), 10_000, "the prompt");
    await tmux("send-keys", "-t", "cli", `${process.execPath} ${BIN} submit ${tasks} --kind sleep --wait; echo "exit=$?"`, "Enter");

    const percentages = new Set<number>();
    const screen = await waitFor(
      async () => {
        const { stdout } = await tmux("capture-pane", "-p", "-t", "cli");
        for (const match of stdout.matchAll(/ (\d+)% \| \d+\/24 \|/g)) percentages.add(Number(match[1]));
        return /^exit=\d+$/m.test(stdout) ? stdout : undefined;
      },
      60_000,
      "the command to finish in the terminal",
    );
    // The batch id on a line of its own, right after the (possibly wrapped) command line.
    const lines = screen.split("\n");
    const typed = lines.findIndex((line) => line.includes("exit=$?"));
    expect(lines[typed + 1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(screen).toMatch(/█+ 100% \| 24\/24 \| succeeded 24 failed 0 running 0 \| [\d.]+\/s \| ETA 0s/);
    expect(screen).toMatch(/\nCOMPLETED in [\d.]+s: 24 succeeded, 0 failed, 0 canceled, 0 expired of 24\n/);
    expect(screen).toMatch(/^exit=0$/m);
    // The bar was drawn while the batch ran, not only at its end.
    expect([...percentages].some((percent) => percent < 100)).toBe(true);
  } finally {
    await tmux("kill-server").catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
