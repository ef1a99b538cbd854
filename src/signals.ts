// signals.ts: owns process signals; the first SIGTERM/SIGINT stops gracefully, a later one forces exit.
import type { Logger } from "./logger.ts";

// Ctrl-C under `npm start` delivers SIGINT twice (the terminal's, and npm's forwarded copy):
// a repeat this soon is the same request.
const REPEAT_WINDOW_MS = 1_000;

/**
 * Exits once the log's pending writes are out: pino writes asynchronously, and an exit in the
 * middle loses or reorders the last lines ("batchwire stopped" before what came just before it).
 */
function exitAfterLog(log: Logger, code: number): void {
  process.exitCode = code;
  const exit = () => process.exit(code);
  setTimeout(exit, 1_000).unref(); // a log that cannot flush does not hold the exit up
  log.flush(exit);
}

export function onShutdownSignal(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping && Date.now() - firstAt < REPEAT_WINDOW_MS) return;
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      return exitAfterLog(log, 1);
    }
    stopping = true;
    firstAt = Date.now();
    log.info({ signal }, "stopping: no new work; waiting for tasks in flight");
    stop().then(
      () => exitAfterLog(log, 0),
      (error: unknown) => {
        log.error({ err: error }, "stop failed");
        exitAfterLog(log, 1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
