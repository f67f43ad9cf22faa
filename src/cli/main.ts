#!/usr/bin/env node
/**
 * repricer CLI. Each command lives in its own module exporting `register(program)`; this file only
 * wires them and maps errors to the catalogue's exit codes.
 */
import { Command, CommanderError } from 'commander';
import { RepricerError, writeFailure } from '../core/errors.js';

const COMMANDS = ['fit', 'reprice', 'serve', 'simulate', 'demo'] as const;

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('repricer').description('Dynamic pricing engine: learn from censored win/loss data, quote optimal prices, reprice catalogues').version('0.1.0');
  program.showHelpAfterError();
  // usage errors (unknown command or option, a missing required option or argument) exit with
  // INVALID_ARGUMENT's code 2, as the error table says, not commander's 1; help and version exit 0.
  // Subcommands inherit this (they are added after it).
  program.exitOverride();
  for (const name of COMMANDS) {
    let mod: { register: (p: Command) => void };
    try {
      mod = (await import(`./${name}.js`)) as { register: (p: Command) => void };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`${name}.js`)) continue;
      throw err;
    }
    mod.register(program);
  }
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
    err = writeFailure((err as NodeJS.ErrnoException).path ?? 'an output file', 'output', err);
  }
  if (err instanceof RepricerError) {
    process.stderr.write(`repricer: error ${err.code}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`repricer: error INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

main(process.argv).catch(reportAndExit);
