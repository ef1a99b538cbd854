// http.ts: the node:http server: /healthz, a request size limit, and yoga for everything else.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { BatchwireYoga } from "./yoga.ts";

export interface HttpOptions {
  /** Absent in a worker-only process: it serves /healthz and nothing else. */
  yoga: BatchwireYoga | undefined;
  maxRequestBytes: number;
  isReady: () => boolean;
  role: string;
}

export function createHttpServer({ yoga, maxRequestBytes, isReady, role }: HttpOptions): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      const ready = isReady();
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: ready ? "ok" : "starting", role }));
      return;
    }
    if (Number(req.headers["content-length"] ?? 0) > maxRequestBytes) {
      res.writeHead(413, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ errors: [{ message: `request body exceeds ${maxRequestBytes} bytes`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] }));
      return;
    }
    if (!yoga) {
      res.writeHead(404).end();
      return;
    }
    void yoga(req, res);
  });
}

export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : port;
}
