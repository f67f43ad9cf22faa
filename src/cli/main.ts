#!/usr/bin/env node
/**
 * repricer CLI. Each command lives in its own module exporting `register(program)`; this file only
 * wires them and maps errors to the catalogue's exit codes.
 */
import { Command } from 'commander';
import { RepricerError } from '../core/errors.js';

const COMMANDS = ['fit', 'reprice', 'serve', 'simulate', 'demo'] as const;

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('repricer').description('Dynamic pricing engine: learn from censored win/loss data, quote optimal prices, reprice catalogues').version('0.1.0');
  program.showHelpAfterError();
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
  if (err instanceof RepricerError) {
    process.stderr.write(`repricer: error ${err.code}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`repricer: error INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

main(process.argv).catch(reportAndExit);
