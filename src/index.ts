// index.ts: the library surface of batchwire, and nothing else.
export { createBatchwire, type Batchwire, type BatchwireOptions } from "./app.ts";
export { loadConfig, type Config } from "./config.ts";
export type { Metrics } from "./observability/metrics.ts";
export { defineTaskKind, TaskError, type TaskContext, type TaskKind, type TaskPolicy } from "./worker/kind.ts";
export { builtinKinds } from "./worker/kinds/builtins.ts";
