// main.ts: starts the roles named by the environment and stops them on SIGTERM/SIGINT.
import { createBatchwire } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { onShutdownSignal } from "./signals.ts";
import { describeStartFailure } from "./startFailure.ts";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`batchwire: ${error.message}\n`);
  process.exit(1);
}

const log = createLogger(config.logLevel);
const app = createBatchwire({ config, logger: log });
onShutdownSignal(log, () => app.stop());
try {
  await app.start();
} catch (error) {
  const failure = describeStartFailure(error, config);
  log.fatal(failure.known ? { reason: failure.line } : { err: error }, "batchwire failed to start");
  await app.stop().catch(() => undefined);
  // Last, so that it is the line a person reads at the bottom of the terminal.
  log.flush(() => {
    process.stderr.write(`batchwire: ${failure.line}\n`);
    process.exit(1);
  });
}
