#!/usr/bin/env node
// Build the WASM core (both targets of asconfig.json) only when a source changed: `npm start` and
// `npm test` call this, and compiling both targets takes ~25 s. A target is rebuilt when its
// output is missing or older than any file under assembly/ or asconfig.json; `--force` always
// rebuilds. asc's optimiser runs with `converge` (repeat passes until the module stops shrinking)
// and prints "Last converge was suboptimal." when the last pass grew it slightly and was undone:
// informational, not an error, so that line is filtered out of the output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
const force = process.argv.includes('--force');

function newestSource() {
  let t = statSync(join(root, 'asconfig.json')).mtimeMs;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else t = Math.max(t, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'assembly'));
  return t;
}

const newest = newestSource();
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
let built = 0;
for (const [target, opts] of Object.entries(config.targets)) {
  const out = join(root, opts.outFile);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= newest) continue;
  const r = spawnSync(process.execPath, [asc, ...config.entries, '--target', target], { cwd: root, encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== 'Last converge was suboptimal.').join('\n').trim();
  if (text) process.stderr.write(text + '\n');
  if (r.status !== 0) {
    process.stderr.write(`build-wasm: asc failed for target ${target} (exit ${r.status})\n`);
    process.exit(r.status ?? 1);
  }
  built++;
}
console.log(built ? `build-wasm: built ${built} target(s)` : 'build-wasm: build/*.wasm up to date');
