/**
 * Write-side file-system errors are OUTPUT_UNWRITABLE (exit 6) naming the output file and the
 * cause, without a stack trace, and leave no temporary file: a full disk (ENOSPC, on a 64 KiB
 * tmpfs mounted in a private mount namespace), a read-only file system (EROFS, found before any
 * work), a file-size limit (EFBIG, `ulimit -f`), an output path that is a folder. Also `fit`: temporary files of its model left by a killed run are removed
 * and reported. Real processes throughout.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ERROR_CATALOG } from '../src/core/errors.js';
import { writeDemoCatalog, writeDemoModel } from '../src/batch/demoData.js';

const main = resolve('dist/src/cli/main.js');
const EXIT = ERROR_CATALOG.OUTPUT_UNWRITABLE.exit;
let dir: string;
let model: string;
let catalog: string;
let observations: string;

/** Can this machine mount a tmpfs in a private mount namespace (as root, or in a user namespace)? */
const canMount = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d"'], { encoding: 'utf8' }).status === 0;

/**
 * Run the CLI with `full` a fresh 64 KiB tmpfs (optionally filled first); prints the entries left
 * in it afterwards as a last line `left: …`.
 */
function onFullDisk(full: string, fill: boolean, ...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const script = `mount -t tmpfs -o size=64k tmpfs "$0" || exit 99
${fill ? '(cat /dev/zero > "$0/fill") 2>/dev/null' : ''}
"$@"; rc=$?
echo "left: $(ls -A "$0" | grep -v '^fill$' | tr '\\n' ' ')"
exit $rc`;
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, full, process.execPath, main, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function cli(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-outerr-'));
  const spec = { products: 20, features: 3, seed: 3 };
  model = join(dir, 'model.json');
  catalog = join(dir, 'catalog.csv');
  writeDemoModel(model, spec);
  await writeDemoCatalog(catalog, 2000, spec);
  observations = join(dir, 'obs.csv');
  const rows = Array.from({ length: 40 }, (_, i) => `P${i % 4},${(i % 7) / 7},${10 + (i % 3)},${i % 2},${i % 2 ? 11 + (i % 4) : ''}`);
  writeFileSync(observations, ['product_id,f1,price,won,competitor_price', ...rows].join('\n') + '\n');
});

const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at /);

describe('a full disk', () => {
  it.skipIf(!canMount)('reprice, CSV and Parquet out: OUTPUT_UNWRITABLE naming the prices file, nothing left', () => {
    for (const name of ['prices.csv', 'prices.parquet']) {
      const full = mkdtempSync(join(dir, 'full-'));
      const out = join(full, name);
      const r = onFullDisk(full, false, 'reprice', '--model', model, '--catalog', catalog, '--out', out, '--workers', '1', '--chunk-size', '100');
      expect(r.status).toBe(EXIT);
      expect(r.stderr).toContain(`repricer: error OUTPUT_UNWRITABLE: ${out}: cannot write the prices: no space left on the device (ENOSPC)`);
      noStack(r.stderr);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('left:');
    }
  });

  it.skipIf(!canMount)('fit: OUTPUT_UNWRITABLE naming the model file, nothing left', () => {
    const full = mkdtempSync(join(dir, 'full-'));
    const out = join(full, 'model.json');
    const r = onFullDisk(full, true, 'fit', '--observations', observations, '--out', out, '--strategy', 'pooled', '--scale', '1');
    expect(r.status).toBe(EXIT);
    expect(r.stderr).toContain(`repricer: error OUTPUT_UNWRITABLE: ${out}: cannot write the model: no space left on the device (ENOSPC)`);
    noStack(r.stderr);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('left:');
  });
});

describe('demo on a full disk', () => {
  it.skipIf(!canMount)('the demo catalogue that does not fit: OUTPUT_UNWRITABLE naming it, no partial file', () => {
    const full = mkdtempSync(join(dir, 'demo-'));
    // 8 MiB: the demo model (~5 MB) fits, 200 000 SKUs of catalogue (~57 MB) do not
    const script = 'mount -t tmpfs -o size=8m tmpfs "$0" || exit 99; "$@"; rc=$?; echo "left: $(ls -A "$0" | tr "\\n" " ")"; exit $rc';
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, full, process.execPath, main, 'demo', '--dir', full, '--workers', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(EXIT);
    expect(r.stderr).toContain(`OUTPUT_UNWRITABLE: ${join(full, 'catalog-200000.csv')}: cannot write the demo catalogue: no space left on the device (ENOSPC)`);
    noStack(r.stderr);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('left: model.json'); // no partial catalogue
  });
});

describe('a read-only file system', () => {
  it.skipIf(!canMount)('reprice and fit refuse the output folder before any work: OUTPUT_UNWRITABLE (EROFS)', () => {
    const ro = mkdtempSync(join(dir, 'ro-'));
    const run = (...args: string[]) => {
      const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o ro tmpfs "$0" || exit 99; exec "$@"', ro, process.execPath, main, ...args], { encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr, stdout: r.stdout };
    };
    const out = join(ro, 'prices.csv');
    const r = run('reprice', '--model', model, '--catalog', catalog, '--out', out, '--workers', '1');
    expect(r.status).toBe(EXIT);
    expect(r.stderr).toContain(`OUTPUT_UNWRITABLE: ${out}: cannot write the output: the folder ${ro} is not writable (EROFS)`);
    expect(r.stdout).not.toContain('repriced');
    const m = join(ro, 'model.json');
    const f = run('fit', '--observations', observations, '--out', m, '--strategy', 'pooled', '--scale', '1');
    expect(f.status).toBe(EXIT);
    expect(f.stderr).toContain(`OUTPUT_UNWRITABLE: ${m}: cannot write the output: the folder ${ro} is not writable (EROFS)`);
    noStack(f.stderr);
  });
});

describe('other write errors', () => {
  it('a file-size limit (EFBIG): OUTPUT_UNWRITABLE naming the prices file, nothing left', () => {
    const d = mkdtempSync(join(dir, 'fsize-'));
    const out = join(d, 'prices.csv');
    // 64 blocks (32 or 64 KiB, by the shell's unit): the catalogue's prices are larger
    const r = spawnSync('sh', ['-c', 'ulimit -f 64 && exec "$@"', 'sh', process.execPath, main, 'reprice', '--model', model, '--catalog', catalog, '--out', out, '--workers', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(EXIT);
    expect(r.stderr).toContain(`repricer: error OUTPUT_UNWRITABLE: ${out}: cannot write the prices: the file is larger than this process may write (EFBIG)`);
    noStack(r.stderr);
    expect(readdirSync(d)).toEqual([]);
  });

  it('an output path that is a folder is refused before any work (reprice and fit)', () => {
    const d = mkdtempSync(join(dir, 'isdir-'));
    const out = join(d, 'prices.csv');
    mkdirSync(out);
    const r = cli('reprice', '--model', model, '--catalog', catalog, '--out', out, '--workers', '1');
    expect(r.status).toBe(EXIT);
    expect(r.stderr).toContain(`OUTPUT_UNWRITABLE: ${out}: cannot write the output: it is a folder`);
    expect(r.stdout).not.toContain('repriced');
    const m = join(d, 'model.json');
    mkdirSync(m);
    const f = cli('fit', '--observations', observations, '--out', m, '--strategy', 'pooled', '--scale', '1');
    expect(f.status).toBe(EXIT);
    expect(f.stderr).toContain(`OUTPUT_UNWRITABLE: ${m}: cannot write the output: it is a folder`);
    expect(readdirSync(d).sort()).toEqual(['model.json', 'prices.csv']);
  });
});

describe('fit: stale temporary files of its model', () => {
  it('are removed when their process is gone, and reported; a live process keeps its own', () => {
    const d = mkdtempSync(join(dir, 'stale-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const staleFile = join(d, `.model.json.${dead}.abc123.tmp`);
    const liveFile = join(d, `.model.json.${process.pid}.abc123.tmp`);
    writeFileSync(staleFile, '{"partial');
    writeFileSync(liveFile, '{"partial');
    const r = cli('fit', '--observations', observations, '--out', join(d, 'model.json'), '--strategy', 'pooled', '--scale', '1');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`removed ${staleFile}, a temporary file left by a run that was killed`);
    expect(existsSync(staleFile)).toBe(false);
    expect(existsSync(liveFile)).toBe(true);
    expect(existsSync(join(d, 'model.json'))).toBe(true);
  });
});
