// clientLog.ts: log lines a client can cause (a refused operation, a protocol violation, a
// malformed request) are rate-limited, so no client can flood the log; they carry the reason as
// text, never an error's stack. What is dropped is counted in the next line that gets through.
import type { Logger } from "./logger.ts";

export interface ClientLogOptions {
  /** Lines let through per interval, across every kind. */
  burst: number;
  intervalMs: number;
}

export type ClientLog = (level: "debug" | "info" | "warn", fields: Record<string, unknown>, message: string) => void;

export function createClientLog(log: Logger, { burst, intervalMs }: ClientLogOptions = { burst: 20, intervalMs: 10_000 }): ClientLog {
  let windowStart = 0;
  let used = 0;
  let dropped = 0;
  return (level, fields, message) => {
    if (!log.isLevelEnabled(level)) return;
    const now = Date.now();
    if (now - windowStart >= intervalMs) {
      windowStart = now;
      used = 0;
    }
    if (used >= burst) {
      dropped++;
      return;
    }
    used++;
    if (dropped > 0) {
      log[level]({ ...fields, droppedClientLogLines: dropped }, `${message} (${dropped} similar client-caused lines were dropped before this one)`);
      dropped = 0;
    } else {
      log[level](fields, message);
    }
  };
}
