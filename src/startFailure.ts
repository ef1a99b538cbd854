// startFailure.ts: a failed start, told in one line a person can act on. The JSON log keeps the
// details (and, for what this module does not recognise, the stack).
import type { Config } from "./config.ts";
import { DataDirInUseError } from "./db/dataDirLock.ts";
import { isDatabaseUnavailable } from "./db/outage.ts";
import { EmbeddedPostgresError } from "./db/postgresAccess.ts";

export interface StartFailure {
  line: string;
  /** A known operator error: the line says it all, no stack is needed. */
  known: boolean;
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").trim();
}

function where(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || 5432}`;
  } catch {
    return "DATABASE_URL";
  }
}

export function describeStartFailure(error: unknown, config: Config): StartFailure {
  if (error instanceof DataDirInUseError || error instanceof EmbeddedPostgresError) return { line: error.message, known: true };
  const e = (error ?? {}) as NodeJS.ErrnoException & { url?: string };
  const message = firstLine(error instanceof Error ? error.message : String(error));
  if (e.syscall === "listen" && e.code === "EADDRINUSE") {
    return { line: `port ${config.port} on ${config.host} is already in use: stop what holds it, or set PORT to another port (0 picks a free one)`, known: true };
  }
  if (e.syscall === "listen" && e.code === "EACCES") {
    return { line: `no permission to listen on port ${config.port} on ${config.host}: set PORT to 1024 or above`, known: true };
  }
  // The kinds module is the only module loaded at start by name.
  if (config.taskKindsModule && (e.code === "ERR_MODULE_NOT_FOUND" || message.includes("TASK_KINDS_MODULE"))) {
    return { line: message.includes("TASK_KINDS_MODULE") ? message : `TASK_KINDS_MODULE ${config.taskKindsModule} could not be loaded: ${message}`, known: true };
  }
  if (config.databaseUrl && isDatabaseUnavailable(error)) {
    return { line: `cannot reach PostgreSQL at ${where(config.databaseUrl)} (DATABASE_URL): ${message}`, known: true };
  }
  return { line: `failed to start: ${message}`, known: false };
}
