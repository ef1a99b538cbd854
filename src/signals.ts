// signals.ts: owns process signals; the first SIGTERM/SIGINT stops gracefully, a second forces exit.
import type { Logger } from "./logger.ts";

export function onShutdownSignal(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
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
