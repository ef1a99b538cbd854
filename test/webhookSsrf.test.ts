// webhookSsrf.test.ts: a webhook cannot be turned into a proxy into the operator's network. The
// address check is tested on its own for every range, never connecting; the network side sends
// traffic only to loopback receivers (127.0.0.1, [::1], localhost), and proves what is refused
// never reaches them, that the connection goes to the address checked, that redirects are not
// followed, and that a response is read to 1 KiB at most within a deadline.
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { addressRefusal } from "../src/webhooks/addressPolicy.ts";
import { ATTEMPT_TIMEOUT_MS, RESPONSE_BYTES, sendWebhook, type Resolve } from "../src/webhooks/send.ts";
import { createKey } from "./helpers/auth.ts";
import type { TestDatabase } from "./helpers/database.ts";
import type { TestServer } from "./helpers/server.ts";
import { serverForFile } from "./helpers/serverForFile.ts";
import { createEndpoint, startReceiver, submitAs, TEST_SEALING_KEY, waitForDelivery, type Receiver } from "./helpers/webhooks.ts";

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args);
  closing.push(() => started.close());
  return started;
}

/** A loopback server whose handler the test writes itself. */
async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<{ port: number; server: Server }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closing.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, server };
}

const STRICT = { production: false, allowPrivateNetworks: false };
const OPEN = { production: false, allowPrivateNetworks: true };

describe("the address check (no connection is made)", () => {
  it.each([
    ["127.0.0.1", "a loopback address"],
    ["127.255.0.9", "a loopback address"],
    ["::1", "a loopback address"],
    ["10.0.0.1", "a private address (RFC 1918)"],
    ["172.16.0.1", "a private address (RFC 1918)"],
    ["172.31.255.254", "a private address (RFC 1918)"],
    ["192.168.10.10", "a private address (RFC 1918)"],
    ["169.254.169.254", "a link-local address (169.254.0.0/16 with the 169.254.169.254 metadata service, fe80::/10)"],
    ["169.254.1.1", "a link-local address (169.254.0.0/16 with the 169.254.169.254 metadata service, fe80::/10)"],
    ["fe80::1", "a link-local address (169.254.0.0/16 with the 169.254.169.254 metadata service, fe80::/10)"],
    ["100.64.0.1", "a carrier-grade NAT address (100.64.0.0/10)"],
    ["100.127.255.254", "a carrier-grade NAT address (100.64.0.0/10)"],
    ["fc00::1", "a unique-local IPv6 address (fc00::/7)"],
    ["fd12:3456:789a::1", "a unique-local IPv6 address (fc00::/7)"],
    ["::ffff:127.0.0.1", "a loopback address (IPv4 127.0.0.1 inside IPv6)"],
    ["::ffff:10.0.0.1", "a private address (RFC 1918) (IPv4 10.0.0.1 inside IPv6)"],
    ["::ffff:a9fe:a9fe", "a link-local address (169.254.0.0/16 with the 169.254.169.254 metadata service, fe80::/10) (IPv4 169.254.169.254 inside IPv6)"],
    ["64:ff9b::a00:1", "a private address (RFC 1918) (IPv4 10.0.0.1 inside IPv6)"],
    ["2002:c0a8:101::1", "a private address (RFC 1918) (IPv4 192.168.1.1 inside IPv6)"],
    ["0.0.0.0", "an unspecified address"],
    ["::", "an unspecified address"],
    ["224.0.0.1", "a multicast address"],
    ["ff02::1", "a multicast address"],
    ["255.255.255.255", "a broadcast address"],
    ["240.0.0.1", "a reserved address"],
    ["2001:db8::1", "a reserved address"],
  ])("refuses %s: %s", (address, why) => {
    expect(addressRefusal(address)).toBe(why);
  });

  it.each(["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.215.14", "100.63.255.255", "172.32.0.1", "64:ff9b::5db8:d70e"])(
    "allows the public address %s",
    (address) => {
      expect(addressRefusal(address)).toBeUndefined();
    },
  );
});

describe("sending one attempt", () => {
  it("refuses loopback targets, by literal or by name, without connecting to them", async () => {
    const v4 = await receiver();
    const v6 = await receiver(undefined, { host: "::1" });
    const named = await receiver();
    const results = [
      await sendWebhook(v4.url, "{}", {}, { policy: STRICT }),
      await sendWebhook(v6.url, "{}", {}, { policy: STRICT }),
      await sendWebhook(`http://localhost:${named.port}/hook`, "{}", {}, { policy: STRICT }),
    ];
    expect(results.map((r) => [r.ok, r.refused])).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ]);
    expect(results[0]!.error).toBe("refused: url's host 127.0.0.1 is a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it");
    expect(results[1]!.error).toBe("refused: url's host ::1 is a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it");
    expect(results[2]!.error).toBe("refused: localhost resolves to 127.0.0.1, a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it");
    expect([v4.requests, v6.requests, named.requests]).toEqual([[], [], []]);
  });

  it("refuses a name when any of its addresses is refused", async () => {
    const hook = await receiver();
    // A name with a second, loopback answer (all of these are loopback: nothing else is ever a target here).
    const resolve: Resolve = async () => [
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 },
    ];
    const result = await sendWebhook(`http://localhost:${hook.port}/hook`, "{}", {}, { policy: STRICT, resolve });
    expect(result).toMatchObject({ ok: false, refused: true });
    expect(hook.requests).toEqual([]);
  });

  it("connects to the address it checked: the host is resolved once, and not again by the connection", async () => {
    // The receiver listens on 127.0.0.2 only; the system resolves localhost to 127.0.0.1, where
    // nothing listens. Only a connection pinned to the checked address reaches the receiver.
    const hook = await receiver(undefined, { host: "127.0.0.2" });
    let lookups = 0;
    const resolve: Resolve = async () => {
      lookups++;
      return [{ address: "127.0.0.2", family: 4 }];
    };
    const result = await sendWebhook(`http://localhost:${hook.port}/hook?x=1`, '{"a":1}', { "webhook-id": "msg_1" }, { policy: OPEN, resolve });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(lookups).toBe(1);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]).toMatchObject({ method: "POST", path: "/hook?x=1", body: '{"a":1}' });
    expect(hook.requests[0]!.headers).toMatchObject({ host: `localhost:${hook.port}`, "webhook-id": "msg_1", "content-type": "application/json" });
  });

  it("does not follow a redirect", async () => {
    const elsewhere = await receiver();
    const { port } = await rawServer((_req, res) => res.writeHead(307, { location: elsewhere.url }).end());
    const result = await sendWebhook(`http://127.0.0.1:${port}/hook`, "{}", {}, { policy: OPEN });
    expect(result).toMatchObject({ ok: false, status: 307, error: `HTTP 307: redirect to ${elsewhere.url} not followed` });
    expect(elsewhere.requests).toEqual([]);
  });

  it("reads at most 1 KiB of a response, and does not wait for the rest", async () => {
    const { port } = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("é".repeat(4_096)); // 8 KiB, and the response never ends
    });
    const result = await sendWebhook(`http://127.0.0.1:${port}/hook`, "{}", {}, { policy: OPEN, timeoutMs: 30_000 });
    expect(result.ok).toBe(true);
    expect(RESPONSE_BYTES).toBe(1_024);
    expect(Buffer.byteLength(result.body!)).toBe(1_024); // 512 whole "é", none cut in half
  });

  it("gives up on a receiver that does not answer within the deadline (10 s in service)", async () => {
    const { port } = await rawServer(() => undefined); // accepts, never answers
    const result = await sendWebhook(`http://127.0.0.1:${port}/hook`, "{}", {}, { policy: OPEN, timeoutMs: 300 });
    expect(result).toEqual({ ok: false, error: "no response within 0.3 s" });
    expect(ATTEMPT_TIMEOUT_MS).toBe(10_000);
  });

  it("needs https in production, at delivery too", async () => {
    const hook = await receiver();
    const result = await sendWebhook(hook.url, "{}", {}, { policy: { production: true, allowPrivateNetworks: true } });
    expect(result).toMatchObject({ ok: false, refused: true, error: "refused: url must be https in production" });
    expect(hook.requests).toEqual([]);
  });
});

describe("a delivery to a refused target", () => {
  let server: TestServer;
  let db: TestDatabase;
  serverForFile({ webhookSecretKey: TEST_SEALING_KEY, webhookRetryBaseSeconds: 1 }, (file) => ({ server, db } = file));

  it("is a failed attempt with a clear lastError, and nothing reaches the address", async () => {
    const key = await createKey(db.pool, `t-${randomUUID().slice(0, 8)}`);
    const hook = await receiver();
    // A name, so creation accepts it: the address is checked when the delivery is attempted.
    const { endpoint } = await createEndpoint(server.url, key, { url: `http://localhost:${hook.port}/hook` });
    const batch = await submitAs(server.url, key, { tasks: [{ kind: "echo", input: 1 }] });
    const delivery = await waitForDelivery(server.url, key, endpoint.id, batch.id, (d) => d.attempts >= 1);
    expect(delivery).toMatchObject({
      status: "PENDING",
      lastResponseStatus: null,
      lastError: "refused: localhost resolves to 127.0.0.1, a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it",
    });
    expect(hook.requests).toEqual([]);
  });
});
