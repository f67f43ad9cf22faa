#!/usr/bin/env node
// The layering of src/ (docs/architecture.md), checked from the code's own imports:
//   - a folder imports only the folders its layer may (ALLOWED below);
//   - no production file imports core/twin/ (the twins are the tests' reference);
//   - no import cycle between files.
// `node scripts/check-layers.mjs` prints every violation and exits 1 if there is one;
// test/layers.test.ts runs it on src/ and feeds it deliberately broken graphs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/** folder -> folders it may import (besides itself). '' is a file at the top of src/ (index.ts). */
export const ALLOWED = {
  core: [],
  pool: ['core'],
  model: ['core', 'pool'],
  market: ['core'],
  rl: ['core', 'pricing'],
  pricing: ['core', 'model', 'pool'],
  records: ['core', 'model', 'pricing'],
  batch: ['core', 'pool', 'model', 'pricing', 'records'],
  server: ['core', 'pool', 'model', 'pricing', 'market', 'records'],
  queue: ['core', 'pool', 'model', 'pricing', 'records', 'batch'],
  sim: ['core', 'pool', 'model', 'pricing', 'market', 'records', 'rl'],
  cli: ['core', 'pool', 'model', 'pricing', 'market', 'records', 'batch', 'server', 'sim', 'queue', 'rl'],
  '': ['core', 'pool', 'model', 'pricing', 'market', 'records', 'batch', 'server', 'sim', 'queue', 'cli', 'rl'],
};

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(=])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Relative import specifiers of a TypeScript source (comments removed first). */
export function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec && spec.startsWith('.')) out.push(spec);
  }
  return out;
}

function walk(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files.push(...walk(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(p);
  }
  return files;
}

/** The import graph of src/: file (relative to src, posix) -> files it imports. */
export function buildGraph(srcDir) {
  const graph = new Map();
  for (const abs of walk(srcDir)) {
    const file = relative(srcDir, abs).split('\\').join('/');
    const deps = importsOf(readFileSync(abs, 'utf8')).map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
    graph.set(file, deps);
  }
  return graph;
}

const folderOf = (file) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

/** Every violation of the rules in `graph` (a Map file -> imported files), as sentences. */
export function checkLayers(graph) {
  const problems = [];
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    const allowed = ALLOWED[from];
    if (!allowed) {
      problems.push(`${file}: folder src/${from}/ is not a known layer (add it to scripts/check-layers.mjs and docs/architecture.md)`);
      continue;
    }
    for (const dep of deps) {
      if (dep.startsWith('..')) {
        problems.push(`${file} imports ${dep}, outside src/`);
        continue;
      }
      if (!graph.has(dep)) problems.push(`${file} imports ${dep}, which does not exist`);
      if (dep.startsWith('core/twin/') && !file.startsWith('core/twin/')) problems.push(`${file} imports the test twin ${dep}: production code calls the WASM core`);
      const to = folderOf(dep);
      if (to !== from && !allowed.includes(to)) problems.push(`${file} imports ${dep}: src/${from}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(', ') : 'itself'}`);
    }
  }
  // cycles between files: Tarjan's strongly connected components
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (comp.length > 1 || selfLoop) problems.push(`import cycle: ${comp.sort().join(' <-> ')}`);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const problems = checkLayers(buildGraph(src));
  for (const p of problems) console.error(p);
  console.log(problems.length ? `${problems.length} layering violation(s)` : 'layers: ok');
  process.exit(problems.length ? 1 : 0);
}
