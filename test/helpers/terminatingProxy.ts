// terminatingProxy.ts: a TCP proxy in front of PostgreSQL that terminates each connection's backend
// (pg_terminate_backend) the moment its start-up completes, and hands the client the server's
// ReadyForQuery and its FATAL in one write: what a process reads after a stall (a long GC pause, a
// SIGSTOP, a busy event loop) during which its new connection was terminated.
import net from "node:net";
import pg from "pg";

export interface TerminatingProxy {
  /** `databaseUrl` with the proxy's port. */
  url: string;
  /** Connections handed their backend's FATAL so far. */
  terminated: number;
  close(): Promise<void>;
}

export async function terminatingProxy(databaseUrl: string): Promise<TerminatingProxy> {
  const target = new URL(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const sockets = new Set<net.Socket>();
  const state = { terminated: 0 };
  const proxy = net.createServer((client) => {
    const server = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(server);
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
    server.on("close", () => client.end());
    let pending = Buffer.alloc(0);
    let backendPid = 0;
    // Server messages (a type byte, then an int32 length that counts itself) pass as they come,
    // authentication included, up to the first ReadyForQuery.
    const onStartup = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      let at = 0;
      while (at + 5 <= pending.length) {
        const type = String.fromCharCode(pending[at]!);
        const end = at + 1 + pending.readInt32BE(at + 1);
        if (end > pending.length) break;
        if (type === "K") backendPid = pending.readInt32BE(at + 5); // BackendKeyData
        if (type === "Z") {
          // ReadyForQuery: terminate the backend, then deliver it together with the FATAL.
          client.write(pending.subarray(0, at));
          const ready = pending.subarray(at);
          server.off("data", onStartup);
          server.once("data", (fatal: Buffer) => {
            state.terminated++;
            client.write(Buffer.concat([ready, fatal]));
            server.pipe(client);
          });
          admin.query("select pg_terminate_backend($1)", [backendPid]).catch(() => client.destroy());
          return;
        }
        at = end;
      }
      client.write(pending.subarray(0, at));
      pending = pending.subarray(at);
    };
    server.on("data", onStartup);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String((proxy.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    get terminated() {
      return state.terminated;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await admin.end();
    },
  };
}
