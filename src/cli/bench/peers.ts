/**
 * `repricer bench`: the Python peers (bench/peers/*.py, shipped with the package). Finds the
 * interpreter and which modules import, runs a peer script and reads the JSON it writes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from './report.js';

export type PythonInfo = BenchReport['python'];

/** bench/peers/ of the package this module belongs to (src/ or dist/src/ alike). */
export function peersDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const p = join(dir, 'bench', 'peers');
      return existsSync(p) ? p : undefined;
    }
    dir = dirname(dir);
  }
  return undefined;
}

function tryImport(python: string, modules: string): { ok: boolean; out: string } {
  const code = `import ${modules}\nprint(' '.join(m.__name__ + '=' + m.__version__ for m in (${modules},)))`;
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, out: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} not found` : r.error.message };
  if (r.status !== 0) return { ok: false, out: (r.stderr.trim().split('\n').pop() ?? '').trim() || `exit ${r.status}` };
  return { ok: true, out: r.stdout.trim() };
}

/** Which peers can run: numpy + scipy for the fit, pandas besides for the batch peer. */
export function detectPython(python: string, enabled: boolean): PythonInfo {
  const info: PythonInfo = { executable: python, available: false, numpyScipy: false, pandas: false };
  if (!enabled) return { ...info, reason: 'disabled (--no-peers)' };
  if (!peersDir()) return { ...info, reason: 'the peer scripts (bench/peers/) are not in this installation' };
  const core = tryImport(python, 'numpy, scipy');
  if (!core.ok) return { ...info, reason: core.out.includes('not found') ? core.out : `numpy and scipy are not importable by ${python} (${core.out})` };
  const versions: Record<string, string> = {};
  const v = spawnSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' });
  versions.python = v.stdout.trim();
  for (const kv of core.out.split(' ')) {
    const [k, val] = kv.split('=');
    versions[k] = val;
  }
  const pd = tryImport(python, 'pandas');
  if (pd.ok) versions.pandas = pd.out.split('=')[1];
  return { executable: python, available: true, numpyScipy: true, pandas: pd.ok, versions, ...(pd.ok ? {} : { reason: `pandas is not importable (${pd.out}): the batch peer is skipped` }) };
}

/** Run bench/peers/<script> with `args`; throws with the script's stderr when it fails. */
export function runPeer(python: string, script: string, args: string[]): void {
  const dir = peersDir();
  if (!dir) throw new Error('bench/peers/ not found');
  const r = spawnSync(python, [join(dir, script), ...args], { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 1 << 24 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${script} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
