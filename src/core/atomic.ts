/** Write-then-rename helpers: a failed write never leaves a partial file in place of a good one. */
import { accessSync, closeSync, constants, fsyncSync, openSync, readdirSync, statSync, writeSync, renameSync, rmSync } from 'node:fs';
import { RepricerError, writeFailure } from './errors.js';
import { dirname, basename, join } from 'node:path';

export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/**
 * Write `file` through a temporary file beside it, flushed to disk and renamed into place. A
 * file-system error (a full disk, no permission) is OUTPUT_UNWRITABLE naming `file` and `what` it
 * is, and leaves neither the temporary file nor a partial `file`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, what = 'output'): void {
  const tmp = tempPathFor(file);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
      fsyncSync(fd); // the bytes are on disk before the name points at them
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeFailure(file, what, err);
  }
}

/**
 * Check, before any work starts, that `file` can be written: its folder exists (else NOT_FOUND,
 * exit 4), is a folder (else INVALID_ARGUMENT, exit 2) and is writable, and `file` is not a folder
 * (else OUTPUT_UNWRITABLE, exit 6), so a long job does not fail at its end.
 */
export function checkOutputPath(file: string, what = 'output'): void {
  const dir = dirname(file) || '.';
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new RepricerError('NOT_FOUND', `${file}: the ${what} folder ${dir} does not exist`, { file, folder: dir });
  }
  if (!isDir) throw new RepricerError('INVALID_ARGUMENT', `${file}: ${dir} is not a folder`, { file, folder: dir });
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    // no permission (EACCES) or a read-only file system (EROFS): the write would fail the same way
    const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
    throw new RepricerError('OUTPUT_UNWRITABLE', `${file}: cannot write the ${what}: the folder ${dir} is not writable (${code})`, { file, folder: dir, errno: code });
  }
  // a folder in the output's place would only fail at the final rename, after all the work
  let isFolder = false;
  try {
    isFolder = statSync(file).isDirectory();
  } catch {
    // absent: it will be created
  }
  if (isFolder) throw new RepricerError('OUTPUT_UNWRITABLE', `${file}: cannot write the ${what}: it is a folder`, { file, errno: 'EISDIR' });
}

/** Flush a written file to disk (before it is renamed into place). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Remove the temporary files of `file` (`.<name>.<pid>[.<stamp>].tmp`, as this module and the
 * batch job name them) left by processes that no longer run: a run killed with SIGKILL cannot
 * remove its own. Files of a process still running (another run writing the same output) are
 * left alone. Returns the paths removed, for the caller to say so.
 */
export function removeStaleTemps(file: string): string[] {
  const dir = dirname(file) || '.';
  const name = basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${name}\\.(\\d+)(?:\\.[0-9a-z]+)?\\.tmp$`);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return []; // no folder: nothing stale (checkOutputPath reports the folder)
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = pattern.exec(e);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const p = join(dir, e);
    rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}
