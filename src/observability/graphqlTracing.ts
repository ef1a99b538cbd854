// graphqlTracing.ts: a span for each GraphQL operation, over HTTP, SSE and WebSocket alike
// (ws.ts runs operations through yoga's envelop). The span is active while the operation
// executes, so resolvers' spans (submitBatch's) and log lines (their trace id) belong to it. A
// request's W3C traceparent header, if any, makes it a child of the caller's span.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context as OtelContext, type Span, type TextMapGetter } from "@opentelemetry/api";
import { getOperationAST, type DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { recordFailure, tracer } from "./tracing.ts";

type Carrier = Headers | Record<string, string | string[] | undefined>;

// yoga's Request may carry @whatwg-node's Headers rather than Node's own: told apart by shape.
const isHeaders = (carrier: Carrier): carrier is Headers => typeof (carrier as Headers).get === "function";

const headerGetter: TextMapGetter<Carrier> = {
  keys: (carrier) => (isHeaders(carrier) ? [...carrier.keys()] : Object.keys(carrier)),
  get: (carrier, key) => (isHeaders(carrier) ? (carrier.get(key) ?? undefined) : carrier[key.toLowerCase()]),
};

/** The context an operation's span starts in: the caller's trace when its request carries one. */
interface OperationContext {
  /** yoga's HTTP and SSE operations. */
  request?: Request;
  /** ws.ts's: the WebSocket's upgrade request. */
  req?: { headers: Record<string, string | string[] | undefined> };
}

function parentOf(ctx: OperationContext): OtelContext {
  const headers = ctx.request?.headers ?? ctx.req?.headers;
  return headers ? propagation.extract(context.active(), headers, headerGetter) : context.active();
}

function runInSpan(ctx: OperationContext, wrapped: () => unknown): unknown {
  const span = tracer().startSpan("graphql", { kind: SpanKind.SERVER }, parentOf(ctx));
  const end = (error?: unknown) => {
    if (error !== undefined) recordFailure(span, error);
    span.end();
  };
  let result: unknown;
  try {
    result = context.with(trace.setSpan(context.active(), span), wrapped);
  } catch (error) {
    end(error);
    throw error;
  }
  if (result instanceof Promise) return result.then(() => end(), (error: unknown) => (end(error), Promise.reject(error)));
  end();
  return result;
}

/** Names the active operation span "<type> <name>", as OpenTelemetry's GraphQL conventions do. */
function describe(document: DocumentNode, operationName: string | null | undefined): Span | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const operation = getOperationAST(document, operationName);
  const type = operation?.operation ?? "unknown";
  const name = operation?.name?.value;
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttribute("graphql.operation.type", type);
  if (name) span.setAttribute("graphql.operation.name", name);
  return span;
}

/** Marks the span failed when the result carries errors (their codes as an attribute). */
function onResult(span: Span | undefined, result: unknown): void {
  const errors = (result as { errors?: readonly { message: string; extensions?: { code?: unknown } }[] } | undefined)?.errors;
  if (!span || !errors?.length) return;
  const codes = [...new Set(errors.map((error) => String(error.extensions?.code ?? "INTERNAL_SERVER_ERROR")))];
  span.setAttribute("graphql.error.codes", codes);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
}

export function useOperationSpans(): Plugin {
  return {
    instrumentation: {
      execute: ({ context: ctx }, wrapped) => runInSpan(ctx, wrapped) as Promise<void>,
      subscribe: ({ context: ctx }, wrapped) => runInSpan(ctx, wrapped) as Promise<void>,
    },
    onExecute({ args }) {
      const span = describe(args.document, args.operationName);
      return { onExecuteDone: ({ result }) => onResult(span, result) };
    },
    onSubscribe({ args }) {
      const span = describe(args.document, args.operationName);
      return {
        onSubscribeResult: ({ result }) => {
          if (!(Symbol.asyncIterator in Object(result))) onResult(span, result);
        },
      };
    },
  };
}
