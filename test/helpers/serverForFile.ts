// serverForFile.ts: the usual test file's setup: a database of its own (cloned from the migrated
// template) and one real server on it, started before the file's tests and stopped after them.
import { afterAll, beforeAll } from "vitest";
import type { Config } from "../../src/config.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { startServer, type TestServer } from "./server.ts";

export interface FileServer {
  db: TestDatabase;
  server: TestServer;
}

/** Registers the hooks; `started` receives the database and server once they are up. */
export function serverForFile(config: Partial<Config>, started: (file: FileServer) => void): void {
  let file: Partial<FileServer> = {};
  beforeAll(async () => {
    file.db = await createTestDatabase();
    file.server = await startServer(file.db.url, config);
    started(file as FileServer);
  });
  afterAll(async () => {
    await file.server?.stop();
    await file.db?.drop();
    file = {};
  });
}
