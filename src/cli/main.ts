#!/usr/bin/env node
/**
 * repricer CLI. Each command lives in its own module exporting `register(program)`, wired by
 * program.ts; this file runs the program and maps errors to the catalogue's exit codes.
 */
import { CommanderError } from 'commander';
import { RepricerError, describeWriteError, writeFailure } from '../core/errors.js';
import { buildProgram } from './program.js';

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  await program.parseAsync(argv);
}

export function reportAndExit(err: unknown): never {
  if (err instanceof CommanderError) {
    // commander has already printed its message (and the help after it)
    process.exit(err.exitCode === 0 ? 0 : new RepricerError('INVALID_ARGUMENT').exitCode);
  }
  // a full disk or a read-only file system met by a write that does not name its file itself
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (!(err instanceof RepricerError) && (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' || code === 'EROFS')) {
    const path = (err as NodeJS.ErrnoException).path;
    err = path !== undefined ? writeFailure(path, 'output', err) : new RepricerError('OUTPUT_UNWRITABLE', `cannot write an output file: ${describeWriteError(code)} (${code})`, { errno: code });
  }
  if (err instanceof RepricerError) {
    process.stderr.write(`repricer: error ${err.code}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`repricer: error INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

main(process.argv).catch(reportAndExit);
