// signals.ts: owns process signals; the first SIGTERM/SIGINT stops gracefully, a later one forces exit.
import type { Logger } from "./logger.ts";

// Ctrl-C under `npm start` delivers SIGINT twice (the terminal's, and npm's forwarded copy):
// a repeat this soon is the same request.
const REPEAT_WINDOW_MS = 1_000;

export function onShutdownSignal(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping && Date.now() - firstAt < REPEAT_WINDOW_MS) return;
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    firstAt = Date.now();
    log.info({ signal }, "stopping: no new work; waiting for tasks in flight");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
