// postgresAccess.ts: PostgreSQL refuses to run as root, so a root process runs the embedded server
// as the `postgres` OS user, which must be able to reach the binaries and the cluster's folder.
// From a folder only root can enter (/root/app, a container's default) it cannot: the binaries
// are then copied, and the cluster kept, under /var/lib/batchwire, which it can reach.
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, cp, lstat, mkdir, readdir, readlink, realpath, rename, rm, rmdir, symlink } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { userInfo } from "node:os";
import { promisify } from "node:util";
import type { Logger } from "../logger.ts";
import type { PostgresBinaries } from "./postgresBinaries.ts";

/** Where a root process keeps what the `postgres` user must reach. */
export const SHARED_STATE_DIR = "/var/lib/batchwire";

/** A start that cannot work as configured: the message is the one line the operator sees. */
export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}

export interface RunAs {
  uid: number;
  gid: number;
}

const run = promisify(execFile);

async function idOf(user: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", user]), run("id", ["-g", user])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** The user the server runs as: undefined when we are not root (it runs as us). */
export async function postgresUser(log: Logger): Promise<RunAs | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const existing = await idOf("postgres");
  if (existing) return existing;
  log.info("creating the `postgres` OS user that runs the embedded PostgreSQL (it refuses to run as root)");
  try {
    await run("groupadd", ["--system", "postgres"]).catch(() => undefined); // the group may exist alone
    await run("useradd", ["--system", "--gid", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL cannot run as root and creating a \`postgres\` OS user failed (${(error as Error).message.trim()}); create one, run as another user, or set DATABASE_URL`,
    );
  }
  const created = await idOf("postgres");
  if (!created) throw new EmbeddedPostgresError("the `postgres` OS user was created but cannot be found; set DATABASE_URL");
  return created;
}

/**
 * Whether `user` can enter `dir` (search permission on it and every folder above). Asked of the
 * system itself, as that user, rather than worked out from modes, groups and ACLs.
 */
export function canEnter(dir: string, user: RunAs): boolean {
  const probe = spawnSync("/bin/sh", ["-c", 'test -x "$1"', "sh", dir], { uid: user.uid, gid: user.gid, cwd: "/", stdio: "ignore" });
  return probe.status === 0;
}

/** The binaries, where `user` can run them: in place, or a copy under SHARED_STATE_DIR. */
export async function reachableBinaries(binaries: PostgresBinaries, user: RunAs | undefined, log: Logger): Promise<PostgresBinaries> {
  if (!user || canEnter(binaries.binDir, user)) return binaries;
  const home = resolve(SHARED_STATE_DIR, `postgres-${binaries.version}`);
  const copied = binaries.relocate(home);
  if (!existsSync(copied.postgres)) {
    log.info({ from: binaries.root, to: home }, "the `postgres` user cannot reach the PostgreSQL binaries here: copying them");
    // Copied aside, then renamed into place: an interrupted copy is never taken for a whole one.
    const partial = `${home}.partial-${process.pid}`;
    try {
      await mkdir(SHARED_STATE_DIR, { recursive: true, mode: 0o755 });
      await cp(binaries.root, partial, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      await rename(partial, home).catch(async (error: NodeJS.ErrnoException) => {
        if (!existsSync(copied.postgres)) throw error; // else another process copied them first
        await rm(partial, { recursive: true, force: true });
      });
    } catch (error) {
      await rm(partial, { recursive: true, force: true }).catch(() => undefined);
      throw new EmbeddedPostgresError(
        `the \`postgres\` user cannot reach ${binaries.root} and copying the binaries to ${home} failed (${(error as Error).message}); start from a folder it can enter, or set DATABASE_URL`,
      );
    }
  }
  if (!canEnter(copied.binDir, user)) {
    throw new EmbeddedPostgresError(`the \`postgres\` user cannot reach the PostgreSQL binaries, even in ${home}; start from a folder it can enter, or set DATABASE_URL`);
  }
  return copied;
}

async function isSymlink(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isSymbolicLink() ?? false;
}

async function isEmptyDir(path: string): Promise<boolean> {
  return (await readdir(path).catch(() => ["?"])).length === 0;
}

/**
 * The cluster's folder: `<dataDir>/postgres`, or, when `user` cannot enter `dataDir`, a folder
 * under SHARED_STATE_DIR that `<dataDir>/postgres` links to (so later starts, and `npm run keys`,
 * find it there). The folder exists and belongs to `user` on return.
 */
export async function clusterDir(dataDir: string, user: RunAs | undefined, log: Logger): Promise<string> {
  const inPlace = resolve(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  if (!user) return inPlace;
  if (await isSymlink(inPlace)) {
    const target = await realpath(inPlace).catch(() => readlink(inPlace));
    await prepare(target, user);
    if (!canEnter(target, user)) throw new EmbeddedPostgresError(`the \`postgres\` user cannot enter ${target} (linked from ${inPlace}); set DATA_DIR or DATABASE_URL`);
    return target;
  }
  if (canEnter(dataDir, user)) {
    await prepare(inPlace, user);
    return inPlace;
  }
  if (existsSync(inPlace)) {
    // An empty folder is what an earlier start that failed here left behind.
    if (!(await isEmptyDir(inPlace))) {
      throw new EmbeddedPostgresError(
        `the \`postgres\` user cannot enter ${dataDir}, which holds an embedded PostgreSQL cluster; let it in (chmod o+x on the folders above), move DATA_DIR, or set DATABASE_URL`,
      );
    }
    await rmdir(inPlace);
  }
  const absolute = resolve(dataDir);
  const target = resolve(SHARED_STATE_DIR, "clusters", `${basename(dirname(absolute))}-${basename(absolute)}-${createHash("sha256").update(absolute).digest("hex").slice(0, 12)}`);
  try {
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await prepare(target, user);
    await symlink(target, inPlace);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `the \`postgres\` user cannot enter ${dataDir}, and keeping its cluster in ${target} failed (${(error as Error).message}); set DATA_DIR to a folder it can enter, or DATABASE_URL`,
    );
  }
  log.info({ dataDir: absolute, cluster: target }, "the `postgres` user cannot enter DATA_DIR: its cluster is kept where it can, linked from DATA_DIR/postgres");
  return target;
}

/** Creates `dir` if needed and gives it to `user` (initdb wants to own an empty data folder). */
async function prepare(dir: string, user: RunAs): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chown(dir, user.uid, user.gid);
}
