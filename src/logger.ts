// logger.ts: the one pino logger factory; every module logs through a child of it. JSON lines for
// machines, or readable lines through pino-pretty for people; either way a line written inside a
// span carries its trace and span ids.
import { isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./config.ts";

export type { Logger };

/**
 * trace_id and span_id (OpenTelemetry's names for them in logs) of the active span, if any. A new
 * object each time: pino merges the line's own fields into it.
 */
export function traceFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/** `destination` is for tests; the process's stdout otherwise. */
export function createLogger(level: LogLevel, format: LogFormat = "json", destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: "batchwire" }, mixin: traceFields };
  if (format === "pretty") {
    // Synchronous, so the last lines before an exit (a failed start) are not lost.
    const stream = pretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service", destination: destination ?? 1 });
    return pino(options, stream);
  }
  return destination ? pino(options, destination) : pino(options);
}
