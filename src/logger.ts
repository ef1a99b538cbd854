// logger.ts: the one pino logger factory; every module logs through a child of it.
import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: "batchwire" } });
}
