// tracing.test.ts: the spans a real server makes, caught by the SDK's in-memory exporter: one
// SERVER span per GraphQL operation (HTTP or WebSocket) named after it and continuing the caller's
// traceparent, submitBatch's span inside it, and a span per webhook delivery attempt whose log
// line carries its trace id.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createClient } from "../src/client/index.ts";
import { createLogger } from "../src/logger.ts";
import { createKey, keyedClient, post, runOperation } from "./helpers/auth.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { idOf, parentOf, recordSpans, traceOf, type SpanRecorder } from "./helpers/spans.ts";
import { createEndpoint, startReceiver, submitAs, TEST_SEALING_KEY, waitForDelivery } from "./helpers/webhooks.ts";

let recorder: SpanRecorder;
let db: TestDatabase;
let server: TestServer;
/** Every line the server logged, parsed. */
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  recorder = recordSpans();
  db = await createTestDatabase();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  server = await startServer(
    db.url,
    { workerConcurrency: 4, webhookSecretKey: TEST_SEALING_KEY, webhookAllowPrivateNetworks: true },
    [],
    createLogger("debug", "json", sink),
  );
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await recorder.stop();
});

const TASK_KINDS = `query TaskKinds { taskKinds { name } }`;

it("gives an HTTP operation a SERVER span named after it, continuing the caller's traceparent", async () => {
  const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const callerSpan = "00f067aa0ba902b7";
  const result = await post(server.url, TASK_KINDS, { headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
  expect(result.status).toBe(200);
  const span = await recorder.span((s) => traceOf(s) === callerTrace, "the operation's span");
  expect(span.name).toBe("query TaskKinds");
  expect(span.kind).toBe(SpanKind.SERVER);
  expect(parentOf(span)).toBe(callerSpan);
  expect(span.attributes).toMatchObject({ "graphql.operation.type": "query", "graphql.operation.name": "TaskKinds" });
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
});

it("gives an operation over WebSocket its span too", async () => {
  const ws = keyedClient(server.url.replace("http", "ws"), undefined, { lazy: false });
  try {
    const outcome = await runOperation(ws, `query OverTheSocket { taskKinds { name } }`);
    expect(outcome.results[0]?.errors).toBeUndefined();
  } finally {
    await ws.dispose();
  }
  const span = await recorder.span((s) => s.name === "query OverTheSocket", "the WebSocket operation's span");
  expect(span.kind).toBe(SpanKind.SERVER);
});

it("puts submitBatch's span inside the operation's, with the batch id, and marks a rejected submit failed", async () => {
  const batch = await createClient({ url: server.url }).submit([{ kind: "echo", input: 1 }, { kind: "echo", input: 2 }]);
  const submit = await recorder.span((s) => s.name === "batchwire.submitBatch" && s.attributes["batchwire.batch_id"] === batch.id, "the submit span");
  expect(submit.attributes["batchwire.tasks"]).toBe(2);
  const operation = recorder.spans().find((s) => idOf(s) === parentOf(submit))!;
  expect(operation.name).toBe("mutation SubmitBatch");
  expect(traceOf(operation)).toBe(traceOf(submit));
  // pg-boss's own span for the job insert runs inside the submit's transaction, and so inside its span.
  expect(recorder.spans().some((s) => s.instrumentationScope.name === "pg-boss" && parentOf(s) === idOf(submit))).toBe(true);

  const rejected = await post(server.url, `mutation Rejected { submitBatch(input: { tasks: [{ kind: "nope", input: 1 }] }) { batch { id } } }`);
  expect(rejected.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  const failedOperation = await recorder.span((s) => s.name === "mutation Rejected", "the rejected operation's span");
  expect(failedOperation.status.code).toBe(SpanStatusCode.ERROR);
  expect(failedOperation.attributes["graphql.error.codes"]).toEqual(["BAD_USER_INPUT"]);
  const failedSubmit = recorder.spans().find((s) => s.name === "batchwire.submitBatch" && parentOf(s) === idOf(failedOperation))!;
  expect(failedSubmit.status.code).toBe(SpanStatusCode.ERROR);
  expect(failedSubmit.events.map((e) => e.name)).toContain("exception");
});

it("gives submitBatchFile its span", async () => {
  const batch = await createClient({ url: server.url }).submit({ file: new Blob(['{"input": 1}\n{"input": 2}\n{"input": 3}\n']), kind: "echo" });
  const submit = await recorder.span((s) => s.name === "batchwire.submitBatchFile" && s.attributes["batchwire.batch_id"] === batch.id, "the file submit span");
  expect(submit.attributes["batchwire.tasks"]).toBe(3);
  expect(recorder.spans().find((s) => idOf(s) === parentOf(submit))?.name).toBe("mutation SubmitBatchFile");
});

it("gives each webhook delivery attempt a CLIENT span, and its log line the span's trace id", async () => {
  const receiver = await startReceiver();
  try {
    const key = await createKey(db.pool, "traced");
    const { endpoint } = await createEndpoint(server.url, key, { url: receiver.url });
    const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
    await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.status === "SUCCEEDED");
    const span = await recorder.span((s) => s.name === "batchwire.webhook.deliver" && s.attributes["batchwire.batch_id"] === batch.id, "the delivery span");
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      "batchwire.webhook.endpoint_id": endpoint.id,
      "batchwire.webhook.outcome": "succeeded",
      "batchwire.webhook.attempt": 1,
      "http.response.status_code": 200,
    });
    const line = lines.find((l) => l.msg === "webhook attempt" && l.batchId === batch.id);
    expect(line).toMatchObject({ trace_id: traceOf(span), span_id: idOf(span), outcome: "succeeded" });
  } finally {
    await receiver.close();
  }
});

it("writes no trace id on lines logged outside any span", () => {
  const ready = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("batchwire ready"));
  expect(ready).toBeDefined();
  expect(ready).not.toHaveProperty("trace_id");
});
