// traceContext.test.ts: the pieces that carry a trace with work across processes: the active span
// written as a W3C traceparent (what a task stores at submit), and a span started later, anywhere,
// linked to the span that traceparent names; checked with the SDK's in-memory exporter.
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { activeTraceparent, startLinkedSpan, withLinkedSpan, withSpan } from "../src/observability/tracing.ts";
import { idOf, parentOf, recordSpans, traceOf, type SpanRecorder } from "./helpers/spans.ts";

let recorder: SpanRecorder;
beforeAll(() => {
  recorder = recordSpans();
});
afterAll(() => recorder.stop());
beforeEach(() => recorder.exporter.reset());

it("writes the active span as a W3C traceparent, and nothing outside a span", async () => {
  expect(activeTraceparent()).toBeNull();
  let stored: string | null = null;
  await withSpan("submit", {}, async () => {
    stored = activeTraceparent();
  });
  const [submit] = recorder.spans();
  expect(stored).toBe(`00-${traceOf(submit!)}-${idOf(submit!)}-01`);
});

it("starts a span, in a trace of its own, linked to the span a stored traceparent names", async () => {
  let stored: string | null = null;
  await withSpan("submit", {}, async () => {
    stored = activeTraceparent();
  });
  const submit = recorder.spans().find((s) => s.name === "submit")!;

  // Later, in another process: no active context but what was stored.
  const attempt = context.with(ROOT_CONTEXT, () => startLinkedSpan("task attempt", stored, { attributes: { "batchwire.task_id": "t1" } }));
  attempt.end();
  const ended = recorder.spans().find((s) => s.name === "task attempt")!;
  expect(ended.links).toHaveLength(1);
  expect(ended.links[0]!.context.traceId).toBe(traceOf(submit));
  expect(ended.links[0]!.context.spanId).toBe(idOf(submit));
  expect(traceOf(ended)).not.toBe(traceOf(submit));
  expect(parentOf(ended)).toBeUndefined();
  expect(ended.attributes["batchwire.task_id"]).toBe("t1");
});

it("runs work in a linked span that is a child of the active one, and links nothing for a missing or malformed traceparent", async () => {
  const submitted = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  await withSpan("worker fetch", {}, () =>
    withLinkedSpan("task attempt", submitted, {}, async () => {
      expect(trace.getActiveSpan()).toBeDefined();
    }),
  );
  const fetch = recorder.spans().find((s) => s.name === "worker fetch")!;
  const attempt = recorder.spans().find((s) => s.name === "task attempt")!;
  expect(parentOf(attempt)).toBe(idOf(fetch));
  expect(attempt.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([["0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"]]);

  for (const stored of [null, undefined, "", "not a traceparent", "00-00000000000000000000000000000000-0000000000000000-01"]) {
    startLinkedSpan("unlinked", stored).end();
  }
  expect(recorder.spans().filter((s) => s.name === "unlinked").map((s) => s.links.length)).toEqual([0, 0, 0, 0, 0]);
});

it("marks a span failed when its work throws, and ends it", async () => {
  await expect(withSpan("doomed", {}, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  const [doomed] = recorder.spans();
  expect(doomed!.status).toEqual({ code: SpanStatusCode.ERROR, message: "boom" });
  expect(doomed!.events.map((e) => e.name)).toEqual(["exception"]);
});
