/**
 * The command-line program without running it: every command module registers itself (each
 * exports `register(program)`). main.ts parses the arguments with it; a test walks it to check
 * that the README documents every command and option.
 */
import { Command } from 'commander';

type CommandModule = { register: (p: Command) => void };

/** The command modules, in the order of the help text. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  fit: () => import('./fit.js'),
  reprice: () => import('./reprice.js'),
  worker: () => import('./worker.js'),
  queue: () => import('./queue.js'),
  breaker: () => import('./breaker.js'),
  serve: () => import('./serve.js'),
  simulate: () => import('./simulate.js'),
  market: () => import('./market.js'),
  rl: () => import('./rl.js'),
  demo: () => import('./demo.js'),
  bench: () => import('./bench.js'),
};

/**
 * The program with every command, or, given the command line, with only the command it runs:
 * each command module imports its layer (the server's Fastify and SQLite, the simulators), and
 * loading them all cost ~0.5 s of every run. Help, --version and unknown commands load them all.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command();
  program.name('repricer').description('Dynamic pricing engine: learn from censored win/loss data, quote optimal prices, reprice catalogues').version('0.1.0');
  program.showHelpAfterError();
  // usage errors (unknown command or option, a missing required option or argument) exit with
  // INVALID_ARGUMENT's code 2, as the error table says, not commander's 1; help and version exit 0.
  // Subcommands inherit this (they are added after it).
  program.exitOverride();
  const invoked = argv?.[2];
  const only = invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? invoked : undefined;
  for (const [name, load] of Object.entries(COMMANDS)) {
    if (only !== undefined && name !== only) continue;
    let mod: CommandModule;
    try {
      mod = await load();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`${name}.js`)) continue;
      throw err;
    }
    mod.register(program);
  }
  return program;
}
