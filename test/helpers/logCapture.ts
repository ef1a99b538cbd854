// logCapture.ts: a pino logger whose lines a test can read, to check what a client can make the
// server write (no stack traces, a bounded number of lines).
import { pino } from "pino";
import type { Logger } from "../../src/logger.ts";

export interface LogCapture {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: Record<string, unknown>[];
  /** Lines that carry a stack trace anywhere. */
  withStacks(): Record<string, unknown>[];
}

export function captureLog(level: "debug" | "info" = "debug"): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level, base: { service: "batchwire" } }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return {
    logger,
    lines,
    withStacks: () => lines.filter((line) => /\n\s+at /.test(JSON.stringify(line).replace(/\\n/g, "\n"))),
  };
}
