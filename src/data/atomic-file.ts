// Node-only: writing a file so that a crash never leaves half of it (model files, checkpoints, reports).
import { randomBytes } from "node:crypto";
import { open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `bytes` to `path` so that a crash at any moment leaves either the old file or the new
 * one: write a temporary file in the same folder, flush it to disk, then rename it over `path`.
 * The temporary file's name carries the writer's process id, so that a later write to the same
 * path removes what a killed writer left (its process is gone) and never touches a live one's.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await removeOrphans(path);
  const folder = dirname(path), name = basename(path);
  const temp = join(folder, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** Deletes the temporary files `.<name>.<pid>.<hex>.tmp` next to `path` whose writer no longer runs. */
export async function removeOrphans(path: string): Promise<void> {
  const folder = dirname(path), name = basename(path);
  const entries = await readdir(folder).catch(() => [] as string[]);
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry.slice(prefix.length));
    if (match === null || isRunning(Number(match[1]))) continue;
    await unlink(join(folder, entry)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, but is another user's
  }
}
