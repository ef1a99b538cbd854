// memory.ts: this process's memory after a full garbage collection, for per-subscriber costs.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
}

export async function settledMemory(): Promise<MemorySample> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}
