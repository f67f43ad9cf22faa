/** Write-then-rename helpers: a failed write never leaves a partial file in place of a good one. */
import { accessSync, constants, statSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { RepricerError } from './errors.js';
import { dirname, basename, join } from 'node:path';

export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Check, before any work starts, that `file` can be written: its folder exists (else NOT_FOUND,
 * exit 4) and is a writable folder (else INVALID_ARGUMENT, exit 2), so a long job does not fail
 * at its end with a bare ENOENT.
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
  } catch {
    throw new RepricerError('INVALID_ARGUMENT', `${file}: the ${what} folder ${dir} is not writable`, { file, folder: dir });
  }
}
