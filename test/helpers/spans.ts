// spans.ts: the OpenTelemetry SDK with its in-memory exporter, registered for one test file, as an
// application embedding batchwire would register its own SDK.
import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { waitFor } from "./server.ts";

export interface SpanRecorder {
  exporter: InMemorySpanExporter;
  /** Ended spans so far. */
  spans(): ReadableSpan[];
  /** Waits until an ended span satisfies `match`; returns it. */
  span(match: (span: ReadableSpan) => boolean, what: string): Promise<ReadableSpan>;
  stop(): Promise<void>;
}

export function recordSpans(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  const spans = () => exporter.getFinishedSpans();
  return {
    exporter,
    spans,
    span: (match, what) => waitFor(() => spans().find(match), 30_000, what),
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

export const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
export const idOf = (span: ReadableSpan) => span.spanContext().spanId;
export const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
