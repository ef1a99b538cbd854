// subscribers.ts: a child process holding many graphql-ws subscribers on one batch, so their
// client-side memory and CPU stay out of the server process the fan-out scenario measures.
// Usage (forked with IPC): node bench/subscribers.ts <wsUrl> <batchId> <count>
// Sends { type: "ready", ms } once every subscriber has its first event, and
// { type: "done", events, minEvents, maxEvents } once every stream has completed.
import { subscribe, wsClient, type Subscription } from "./clients.ts";
import type { BatchwireClient } from "../src/client/index.ts";

const [wsUrl, batchId, countText] = process.argv.slice(2);
if (!wsUrl || !batchId || !countText || !process.send) {
  throw new Error("usage (forked with IPC): node bench/subscribers.ts <wsUrl> <batchId> <count>");
}
const count = Number(countText);
const send = (message: unknown) => process.send!(message);

const clients: BatchwireClient[] = [];
const subscriptions: Subscription[] = [];
const t0 = performance.now();
// Connect in steps, so the server's accept backlog is never the thing measured.
const STEP = 100;
for (let i = 0; i < count; i += STEP) {
  const step: Promise<void>[] = [];
  for (let j = i; j < Math.min(count, i + STEP); j++) {
    const client = wsClient(wsUrl);
    clients.push(client);
    const subscription = subscribe(client, batchId, { keepEvents: false });
    subscriptions.push(subscription);
    step.push(Promise.race([subscription.firstEvent, subscription.completed])); // an error rejects
  }
  await Promise.all(step);
}
send({ type: "ready", ms: performance.now() - t0 });

await Promise.all(subscriptions.map((s) => s.completed));
const counts = subscriptions.map((s) => s.received());
send({ type: "done", events: counts.reduce((a, b) => a + b, 0), minEvents: Math.min(...counts), maxEvents: Math.max(...counts) });
await Promise.all(clients.map((client) => client.dispose()));
process.disconnect();
