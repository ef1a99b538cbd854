// setup.ts: runs in every test file; whatever a file started as a separate process ends with it.
import { afterAll } from "vitest";
import { killStrayProcesses } from "./process.ts";

afterAll(() => killStrayProcesses());
