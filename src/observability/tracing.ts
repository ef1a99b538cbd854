// tracing.ts: batchwire's spans, through @opentelemetry/api only (no-ops until an SDK is
// registered: tracingSdk.ts, or an application's own). Holds the span helper every module uses and
// the two pieces that carry a trace across processes with the work: the active context as a W3C
// traceparent to store, and a span linked to a stored one.
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/** The instrumentation scope of every batchwire span. */
export const TRACER_NAME = "batchwire";

// Always W3C Trace Context for what is stored, whatever propagators the process registered: the
// stored form must be readable by every other process.
const w3c = new W3CTraceContextPropagator();

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** Marks a span failed by `error` (recorded as an exception event). */
export function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Runs `fn` in a new active span (a child of the active one), ended when `fn` settles. */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The active span's context as a W3C `traceparent` value ("00-<trace id>-<span id>-<flags>"), to
 * store with work another process will pick up; null when there is no span (tracing off).
 */
export function activeTraceparent(from: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  w3c.inject(from, carrier, defaultTextMapSetter);
  return carrier.traceparent ?? null;
}

/** A link to the span a stored traceparent names; undefined when it is absent or malformed. */
export function linkTo(traceparent: string | null | undefined): Link | undefined {
  if (!traceparent) return undefined;
  const spanContext = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter));
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

function withLink(options: SpanOptions, traceparent: string | null | undefined): SpanOptions {
  const link = linkTo(traceparent);
  return link ? { ...options, links: [...(options.links ?? []), link] } : options;
}

/**
 * Starts a span linked to the span `traceparent` names (the request that submitted the work),
 * as a child of the active context: a task attempt's span links to its submit, across processes.
 * The caller ends it.
 */
export function startLinkedSpan(name: string, traceparent: string | null | undefined, options: SpanOptions = {}): Span {
  return tracer().startSpan(name, withLink(options, traceparent));
}

/** Like withSpan, for a span linked to a stored traceparent. */
export function withLinkedSpan<T>(name: string, traceparent: string | null | undefined, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  return withSpan(name, withLink(options, traceparent), fn);
}
