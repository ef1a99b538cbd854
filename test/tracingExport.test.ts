// tracingExport.test.ts: `node src/main.ts` configured by the standard OTEL_* variables alone sends
// its spans with the OTLP exporter, over http/json and http/protobuf, to a collector stand-in on
// 127.0.0.1, under the service name they give.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startProcess } from "./helpers/process.ts";
import { gqlOk, waitFor } from "./helpers/server.ts";

interface Export {
  path: string;
  contentType: string;
  body: Buffer;
}

let db: TestDatabase;
let collector: Server;
let collectorUrl: string;
const exports: Export[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      exports.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "", body: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse in either encoding.
      res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/json" }).end(req.headers["content-type"]?.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => collector.close(() => resolve()));
  await db?.drop();
});

const otel = (serviceName: string, protocol?: string) => ({
  DATABASE_URL: db.url,
  ROLE: "api",
  OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
  ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}),
  OTEL_SERVICE_NAME: serviceName,
  OTEL_BSP_SCHEDULE_DELAY: "100",
});

it("exports each GraphQL operation's span as OTLP http/json", async () => {
  const server = await startProcess(otel("batchwire-json", "http/json"));
  try {
    await gqlOk(server.url, `query ExportedOverJson { taskKinds { name } }`);
    const sent = await waitFor(() => exports.find((e) => e.contentType.includes("json") && e.body.includes("ExportedOverJson")), 30_000, "an OTLP JSON export");
    expect(sent.path).toBe("/v1/traces");
    const body = JSON.parse(sent.body.toString()) as {
      resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { scope: { name: string }; spans: { name: string; kind: number }[] }[] }[];
    };
    const resource = body.resourceSpans[0]!.resource.attributes.find((a) => a.key === "service.name");
    expect(resource?.value.stringValue).toBe("batchwire-json");
    const spans = body.resourceSpans.flatMap((r) => r.scopeSpans.filter((s) => s.scope.name === "batchwire").flatMap((s) => s.spans));
    expect(spans).toContainEqual(expect.objectContaining({ name: "query ExportedOverJson", kind: 2 })); // SPAN_KIND_SERVER
  } finally {
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }
});

it("exports over OTLP http/protobuf, the default protocol, and flushes what is left on a graceful stop", async () => {
  const server = await startProcess({ ...otel("batchwire-protobuf"), OTEL_BSP_SCHEDULE_DELAY: "600000" });
  try {
    await gqlOk(server.url, `query ExportedAsProtobuf { taskKinds { name } }`);
  } finally {
    // Nothing is sent before the (10-minute) batch delay: only the stop's flush sends the span.
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }
  const sent = exports.find((e) => e.body.includes("ExportedAsProtobuf"));
  expect(sent?.path).toBe("/v1/traces");
  expect(sent?.contentType).toBe("application/x-protobuf");
  expect(sent?.body.includes("batchwire-protobuf")).toBe(true);
});
