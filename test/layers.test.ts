/**
 * The layering of src/ (docs/architecture.md) holds: scripts/check-layers.mjs finds no upward or
 * sideways import, no production import of a test twin and no import cycle; and the checker
 * itself catches each kind of violation in a deliberately broken graph.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { buildGraph, checkLayers, importsOf } from '../scripts/check-layers.mjs';

type Graph = Map<string, string[]>;
const check = checkLayers as (g: Graph) => string[];
const src = fileURLToPath(new URL('../src', import.meta.url));

describe('layers', () => {
  it('src/ has no forbidden import and no import cycle', () => {
    expect(check(buildGraph(src) as Graph)).toEqual([]);
  });

  it('finds type-only, multi-line, re-export and dynamic imports, and ignores comments', () => {
    const text = [
      "import type { A } from '../pricing/engine.js';",
      'import {\n  b,\n  c,\n} from "./b.js";',
      "export { d } from '../core/d.js';",
      "const m = await import('../server/app.js');",
      "// import { x } from '../batch/job.js';",
      "/* import { y } from '../batch/job.js'; */",
      "import { z } from 'node:fs';",
    ].join('\n');
    expect((importsOf as (t: string) => string[])(text)).toEqual(['../pricing/engine.js', './b.js', '../core/d.js', '../server/app.js']);
  });

  it('reports an upward import, batch and server importing each other, a twin in production, a cycle', () => {
    const g: Graph = new Map([
      ['core/wasm.ts', ['pricing/engine.ts']],
      ['pricing/engine.ts', []],
      ['batch/job.ts', ['server/app.ts', 'core/twin/noise.ts']],
      ['server/app.ts', ['batch/job.ts']],
      ['core/twin/noise.ts', []],
      ['pool/taskPool.ts', ['batch/job.ts']],
    ]);
    const p = check(g);
    expect(p.some((s) => s.startsWith('core/wasm.ts imports pricing/engine.ts'))).toBe(true);
    expect(p.some((s) => s.startsWith('batch/job.ts imports server/app.ts'))).toBe(true);
    expect(p.some((s) => s.startsWith('server/app.ts imports batch/job.ts'))).toBe(true);
    expect(p.some((s) => s.includes('test twin core/twin/noise.ts'))).toBe(true);
    expect(p.some((s) => s.startsWith('pool/taskPool.ts imports batch/job.ts'))).toBe(true);
    expect(p).toContain('import cycle: batch/job.ts <-> server/app.ts');
  });

  it('keeps the market layer on core only: market importing pricing or pool is reported, core is not', () => {
    const g: Graph = new Map([
      ['market/potential.ts', ['core/wasm.ts', 'pricing/engine.ts', 'pool/taskPool.ts']],
      ['core/wasm.ts', []],
      ['pricing/engine.ts', ['market/potential.ts']],
      ['pool/taskPool.ts', []],
      ['cli/market.ts', ['market/potential.ts']],
    ]);
    const p = check(g);
    expect(p.some((s) => s.startsWith('market/potential.ts imports pricing/engine.ts'))).toBe(true);
    expect(p.some((s) => s.startsWith('market/potential.ts imports pool/taskPool.ts'))).toBe(true);
    expect(p.some((s) => s.startsWith('pricing/engine.ts imports market/potential.ts'))).toBe(true);
    expect(p.some((s) => s.startsWith('market/potential.ts imports core/wasm.ts'))).toBe(false);
    expect(p.some((s) => s.startsWith('cli/market.ts'))).toBe(false);
  });

  it('reports a file cycle inside one folder and an unknown folder', () => {
    const g: Graph = new Map([
      ['server/a.ts', ['server/b.ts']],
      ['server/b.ts', ['server/a.ts']],
      ['extras/x.ts', []],
    ]);
    const p = check(g);
    expect(p).toContain('import cycle: server/a.ts <-> server/b.ts');
    expect(p.some((s) => s.includes('src/extras/ is not a known layer'))).toBe(true);
  });
});
