/**
 * scripts/build-wasm.mjs rebuilds the WASM core only when a source changed: right after the
 * build `npm test` runs, both targets are up to date and nothing is compiled again.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

describe('build-wasm', () => {
  it('leaves up-to-date builds alone (no asc run, outputs untouched)', () => {
    const before = ['build/core.simd.wasm', 'build/core.scalar.wasm'].map((f) => statSync(f).mtimeMs);
    const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('build-wasm: build/*.wasm up to date');
    expect(['build/core.simd.wasm', 'build/core.scalar.wasm'].map((f) => statSync(f).mtimeMs)).toEqual(before);
  });
});
