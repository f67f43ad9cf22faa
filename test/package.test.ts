/**
 * The package as a user installs it: `npm pack`, installed into an empty folder, imported by its
 * name ('repricer'), with type declarations that resolve through package.json's `exports`. The
 * README's library example runs there as written, and its price is checked against the twin's
 * optimal quote (docs/math.md §1.5) rounded to the policy's cent grid.
 *
 * The install uses npm's cache (`--prefer-offline`, filled by `npm ci`) and `--ignore-scripts`:
 * the one install script among the dependencies builds better-sqlite3's addon, which only the
 * server's store loads (when a database is opened), and which importing the package never needs.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optimalQuote } from '../src/core/twin/quote.js';
import { FAMILY_GAUSSIAN } from '../src/core/twin/noise.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let app: string;

/** The first ```js block of the README's "Library" section, as written. */
function readmeExample(): string {
  const s = readFileSync(join(root, 'README.md'), 'utf8');
  const a = s.indexOf('## Library');
  const b = s.indexOf('```js\n', a);
  const e = s.indexOf('```', b + 6);
  if (a < 0 || b < 0 || e < 0) throw new Error('README.md has no ```js block under "## Library"');
  return s.slice(b + 6, e);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-pack-'));
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-probe', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-package-lock', join(dir, tgz)], { cwd: app, stdio: 'pipe' });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the entry, its declarations, both WASM builds and the CLI; not the tests or the TypeScript sources', () => {
    const pkg = join(app, 'node_modules', 'repricer');
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'build/core.simd.wasm', 'build/core.scalar.wasm', 'dist/src/cli/main.js', 'docs/math.md']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'test'))).toBe(false);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(pkg, 'dist', 'bench'))).toBe(false);
  });

  it("runs the README's library example by the package's name; the price is the optimal quote on the cent grid", () => {
    writeFileSync(join(app, 'example.mjs'), readmeExample());
    const out = execFileSync(process.execPath, ['example.mjs'], { cwd: app, encoding: 'utf8' }).trim().split(' ');
    const [price, status, reason, win] = [Number(out[0]), out[1], out[2], Number(out[3])];
    // sku-1: u = 21 + 2.5 x 1.5, c = 15, sigma = 2 (the example's model and item)
    const q = new Float64Array(4);
    optimalQuote(FAMILY_GAUSSIAN, 2, 1, new Float64Array([21 + 2.5 * 1.5]), new Float64Array([15]), q);
    const onGrid = Math.round(q[0] / 0.01) * 0.01;
    expect(q[0]).toBeGreaterThan(15 * 1.1); // the margin floor does not bind: rounding alone moves it
    expect(price).toBeCloseTo(onGrid, 10);
    expect(Math.abs(price - q[0])).toBeLessThanOrEqual(0.005 + 1e-12);
    expect(status).toBe('ok');
    expect(reason).toBe('rounded');
    expect(win).toBeGreaterThan(0);
    expect(win).toBeLessThan(1);
  });

  it('has type declarations that resolve through exports (tsc, NodeNext)', () => {
    writeFileSync(join(app, 'probe.ts'), [
      "import { createEngine, RepricerError, type Engine, type QuoteRecord, type Policy } from 'repricer';",
      'const policy: Policy = { rounding: { step: 0.01 } };',
      "const make = (m: string): Engine => createEngine(m, { policy });",
      'const price = (r: QuoteRecord): number | null => r.price;',
      "const code = (e: RepricerError): string => e.code;",
      'export { make, price, code };',
      '',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['probe.ts'] }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(() => execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, stdio: 'pipe' })).not.toThrow();
    // and the probe can fail: a wrong type is an error
    writeFileSync(join(app, 'probe.ts'), "import { createEngine } from 'repricer';\nconst n: number = createEngine;\nexport { n };\n");
    expect(() => execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, stdio: 'pipe' })).toThrow();
  });

  it('installs the repricer command', () => {
    const help = execFileSync(join(app, 'node_modules', '.bin', 'repricer'), ['--help'], { encoding: 'utf8' });
    expect(help).toMatch(/reprice/);
    expect(help).toMatch(/serve/);
  });
});
