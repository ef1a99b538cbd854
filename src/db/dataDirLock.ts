// dataDirLock.ts: one live process owns a DATA_DIR at a time. The owner file holds its pid (and,
// on Linux, the process's start time, so a recycled pid is not taken for the owner); a file whose
// process is gone is stale and taken over.
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const OWNER_FILE = "batchwire.pid";

/** Another live process owns the folder: the start stops with this one line. */
export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";

  readonly dataDir: string;
  readonly ownerPid: number;

  constructor(dataDir: string, ownerPid: number) {
    super(
      `DATA_DIR ${dataDir} is in use by batchwire process ${ownerPid}; to run a second instance, give it another DATA_DIR, or point both at one PostgreSQL with DATABASE_URL`,
    );
    this.dataDir = dataDir;
    this.ownerPid = ownerPid;
  }
}

export interface DataDirLock {
  /** Gives the folder up (idempotent). */
  release(): Promise<void>;
}

/** Folders this process holds: a second holder in one process is refused like another process. */
const heldHere = new Set<string>();

/** The kernel's start time of a process (Linux); undefined where /proc does not say. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may itself hold spaces and parentheses; starttime is field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the owner file names a process that still runs (and is the same process that wrote it). */
function ownerOf(content: string): number | undefined {
  const [pidText, started] = content.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (pid === process.pid) return undefined; // an earlier run that had our pid (a container's pid 1)
  if (!alive(pid)) return undefined;
  const now = startTime(pid);
  if (started && now && started !== now) return undefined;
  return pid;
}

/** Takes DATA_DIR for this process, or throws DataDirInUseError naming the live owner. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  if (heldHere.has(dir)) throw new DataDirInUseError(dir, process.pid);
  await mkdir(dir, { recursive: true });
  const file = resolve(dir, OWNER_FILE);
  // Written aside and linked into place: the owner file never exists half written.
  const mine = `${file}.${process.pid}`;
  await writeFile(mine, `${process.pid} ${startTime(process.pid) ?? ""}\n`);
  try {
    for (let tries = 0; ; tries++) {
      try {
        await link(mine, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || tries >= 5) throw error;
      }
      const owner = ownerOf(await readFile(file, "utf8").catch(() => ""));
      if (owner !== undefined) throw new DataDirInUseError(dir, owner);
      // Stale. Moved aside rather than deleted, so that of two processes taking it over at once,
      // the second sees (and puts back) the first one's fresh file instead of deleting it.
      const aside = `${file}.stale.${process.pid}`;
      try {
        await rename(file, aside);
      } catch {
        continue;
      }
      const moved = ownerOf(await readFile(aside, "utf8").catch(() => ""));
      if (moved !== undefined) {
        await link(aside, file).catch(() => undefined);
        await rm(aside, { force: true });
        throw new DataDirInUseError(dir, moved);
      }
      await rm(aside, { force: true });
    }
  } finally {
    await rm(mine, { force: true });
  }
  heldHere.add(dir);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      heldHere.delete(dir);
      await rm(file, { force: true });
    },
  };
}
