// typedClient.test.ts: batchwire/client against the real server: every call, its errors, and a
// watch() that outlives a dropped socket without losing the final event.
import { createServer, type Server, type Socket, connect } from "node:net";
import { describe, expect, it } from "vitest";
import { BatchwireError, createClient, type JobProgressEvent } from "../src/client/index.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";

let server: TestServer;
serverForFile({ workerConcurrency: 4 }, (file) => ({ server } = file));

async function refusal(promise: Promise<unknown>): Promise<BatchwireError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(error instanceof BatchwireError)) throw new Error(`expected a BatchwireError, got ${String(error)}`);
  return error;
}

/** A TCP proxy to the server whose open connections can be cut, as a network drop would. */
async function proxy(port: number): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const listener: Server = createServer((inbound) => {
    const outbound = connect(port, "127.0.0.1");
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const address = listener.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
}

describe("the typed client", () => {
  it("submits tasks and files, follows a batch to its final event, and reads it back", async () => {
    const client = createClient({ url: server.url });
    try {
      const batch = await client.submit(
        [
          { kind: "echo", input: { hello: "world" }, customId: "a" },
          { kind: "sleep", input: { ms: 300 }, customId: "b" },
        ],
        { priority: 2, metadata: { by: "test" } },
      );
      expect(batch).toMatchObject({ status: "QUEUED", priority: 2, metadata: { by: "test" }, counts: { total: 2 } });
      expect(batch.resultsUrl).toBe(`/batches/${batch.id}/results.jsonl`);

      const events: JobProgressEvent[] = [];
      for await (const event of client.watch(batch.id)) events.push(event);
      expect(events.at(-1)!.batch).toMatchObject({ status: "COMPLETED", counts: { succeeded: 2 } });
      expect(events.flatMap((e) => e.changedTasks ?? []).some((t) => t.customId === "b" && t.status === "SUCCEEDED")).toBe(true);

      const results = [];
      for await (const line of client.results(batch.id)) results.push(line);
      expect(results).toEqual([
        { index: 0, customId: "a", kind: "echo", status: "SUCCEEDED", attempts: 1, result: { hello: "world" }, error: null },
        { index: 1, customId: "b", kind: "sleep", status: "SUCCEEDED", attempts: 1, result: { sleptMs: 300 }, error: null },
      ]);

      const fromFile = await client.submit({ file: new Blob(['{"input":1}\n{"input":2}\n']), kind: "echo" });
      expect(fromFile.counts.total).toBe(2);
      expect((await client.batch(fromFile.id))!.id).toBe(fromFile.id);
      expect(await client.batch("00000000-0000-4000-8000-000000000000")).toBeNull();
      const { batches } = await client.batches({ first: 2 });
      expect(batches.map((b) => b.id)).toEqual([fromFile.id, batch.id]);
      expect((await client.taskKinds()).map((kind) => kind.name)).toEqual(["echo", "fail", "sha256", "sleep"]);
    } finally {
      await client.dispose();
    }
  });

  it("cancels a batch and retries its failed tasks", async () => {
    const client = createClient({ url: server.url });
    try {
      const long = await client.submit([{ kind: "sleep", input: { ms: 60_000 } }]);
      expect(["CANCELING", "CANCELED"]).toContain((await client.cancel(long.id)).status);

      const failing = await client.submit([{ kind: "fail", input: { times: 3 } }]);
      let final: JobProgressEvent["batch"] | undefined;
      for await (const event of client.watch(failing.id, { withTasks: false })) {
        expect(event.changedTasks).toBeUndefined();
        final = event.batch;
      }
      expect(final!.counts.failed).toBe(1);
      const retried = await client.retryFailed(failing.id);
      expect(retried).toMatchObject({ status: "RUNNING", counts: { queued: 1, failed: 0 } });
    } finally {
      await client.dispose();
    }
  });

  it("throws BatchwireError with the server's code, the bad tasks, or why the server could not be reached", async () => {
    const client = createClient({ url: server.url });
    const bad = await refusal(client.submit([{ kind: "echo", input: 1 }, { kind: "nope", input: 1 }]));
    expect(bad.code).toBe("BAD_USER_INPUT");
    expect(bad.taskErrors).toEqual([{ index: 1, message: 'unknown task kind "nope"' }]);

    expect((await refusal(client.cancel("00000000-0000-4000-8000-000000000000"))).code).toBe("NOT_FOUND");
    const missing = await refusal(client.results("00000000-0000-4000-8000-000000000000").next());
    expect(missing).toMatchObject({ code: "NOT_FOUND", status: 404 });
    const watchMissing = await refusal(client.watch("00000000-0000-4000-8000-000000000000").next());
    expect(watchMissing.code).toBe("NOT_FOUND");
    await client.dispose();

    const badKey = await refusal(createClient({ url: server.url, key: `bw_${"Z".repeat(43)}` }).taskKinds());
    expect(badKey).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });

    const closed = await proxy(1);
    await closed.close();
    const refused = await refusal(createClient({ url: closed.url }).taskKinds());
    expect(refused.code).toBe("CONNECTION_FAILED");
    expect(refused.message).toBe(`cannot reach ${closed.url}/graphql: connection refused`);
  });

  it("watch() subscribes again after its socket drops and still delivers every snapshot up to the final one", async () => {
    const relay = await proxy(server.app.port);
    const client = createClient({ url: relay.url });
    try {
      const batch = await client.submit(Array.from({ length: 12 }, (_, i) => ({ kind: "sleep", input: { ms: 1_000 }, customId: `s${i}` })));
      const events: JobProgressEvent[] = [];
      let cuts = 0;
      for await (const event of client.watch(batch.id)) {
        events.push(event);
        // Cut the line (up to twice) while the batch runs: graphql-ws reconnects, and the server
        // starts again from its current snapshot.
        if (cuts < 2 && event.batch.status !== "COMPLETED") {
          cuts++;
          relay.cut();
        }
      }
      expect(cuts).toBeGreaterThanOrEqual(1);
      const last = events.at(-1)!.batch;
      expect(last).toMatchObject({ status: "COMPLETED", counts: { total: 12, succeeded: 12 } });
      const versions = events.map((e) => e.batch.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    } finally {
      await client.dispose();
      relay.cut();
      await relay.close();
    }
  });
});
