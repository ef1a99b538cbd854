// tracingSdk.ts: the OpenTelemetry SDK the batchwire program registers when the OTEL_* variables
// turn tracing on (config.ts decides which exporter). An application that embeds batchwire as a
// library registers its own SDK instead; batchwire's spans go to whichever is registered.
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { TraceExporter } from "../config.ts";

export interface Tracing {
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

function exporterFor(kind: TraceExporter): SpanExporter {
  // The OTLP exporters read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and
  // _COMPRESSION themselves.
  if (kind === "otlp-proto") return new OtlpProtoExporter();
  if (kind === "otlp-json") return new OtlpJsonExporter();
  return new ConsoleSpanExporter();
}

/**
 * Registers the global tracer provider, W3C propagators and the AsyncLocalStorage context
 * manager. The sampler (OTEL_TRACES_SAMPLER), batching (OTEL_BSP_*) and resource
 * (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES; service.name defaults to "batchwire") come from
 * the environment, read by the SDK.
 */
export function startTracing(kind: TraceExporter): Tracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "batchwire" }))
    .merge(detectResources({ detectors: [hostDetector, processDetector, envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporterFor(kind))] });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
