// wsMessageGuard.ts: a client message whose type graphql-transport-ws does not let a client send
// (`next`, `error`, `connection_ack`, anything unknown) closes the socket with 4400, as the
// protocol says, at any point of the connection. graphql-ws would throw on it instead: close
// code 4500 and a stack trace on stdout for every such message.
import { CloseCode, MessageType } from "graphql-ws";
import type { RawData, WebSocket } from "ws";
import type { ClientLog } from "../clientLog.ts";

const FROM_CLIENT = new Set<string>([MessageType.ConnectionInit, MessageType.Ping, MessageType.Pong, MessageType.Subscribe, MessageType.Complete]);

/** The message's type when it is one a client may send; undefined for another type; null when it is not a JSON object (graphql-ws answers that itself). */
function clientMessageType(data: RawData): string | undefined | null {
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch {
    return null;
  }
  if (typeof message !== "object" || message === null) return null;
  const type = (message as { type?: unknown }).type;
  return typeof type === "string" && FROM_CLIENT.has(type) ? type : undefined;
}

/** Puts the check in front of the message listeners graphql-ws registered on `socket`. */
export function guardClientMessages(socket: WebSocket, clientLog: ClientLog): void {
  const listeners = socket.listeners("message") as ((data: RawData, isBinary: boolean) => void)[];
  socket.removeAllListeners("message");
  socket.on("message", (data: RawData, isBinary: boolean) => {
    if (clientMessageType(data) === undefined) {
      clientLog("debug", { closeCode: CloseCode.BadRequest }, "WebSocket closed: a message type clients may not send");
      socket.close(CloseCode.BadRequest, "Invalid message received");
      return;
    }
    for (const listener of listeners) listener.call(socket, data, isBinary);
  });
}
