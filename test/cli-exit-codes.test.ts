/**
 * The command's exit codes follow the error table (README "Errors"; src/core/errors.ts): one real
 * process per code, its stderr naming the problem, never a stack trace, nothing written.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_CATALOG } from '../src/core/errors.js';
import { writeDemoCatalog, writeDemoModel } from '../src/batch/demoData.js';

const main = 'dist/src/cli/main.js';
let dir: string;
let model: string;
let catalog: string;

function cli(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-exit-'));
  const spec = { products: 20, features: 3, seed: 5 };
  model = join(dir, 'model.json');
  catalog = join(dir, 'catalog.csv');
  writeDemoModel(model, spec);
  await writeDemoCatalog(catalog, 50, spec);
});

describe('exit codes', () => {
  it('0: success, --help, --version', () => {
    const ok = cli('reprice', '--model', model, '--catalog', catalog, '--out', join(dir, 'ok.csv'), '--workers', '1');
    expect(ok.status).toBe(0);
    // the summary says where the prices went and counts the rows with no change to bin
    expect(ok.stdout).toContain(`prices written to ${join(dir, 'ok.csv')}`);
    expect(ok.stdout).toMatch(/repriced 50 SKUs/);
    expect(ok.stdout).toMatch(/no change \(no current_price, or rejected\) \d+/);
    expect(cli('--help').status).toBe(0);
    expect(cli('reprice', '--help').status).toBe(0);
    expect(cli('--version').status).toBe(0);
  });

  it('2 (INVALID_ARGUMENT): an unknown option, an unknown command, a missing required option, a bad value', () => {
    const code = ERROR_CATALOG.INVALID_ARGUMENT.exit;
    const unknownOption = cli('reprice', '--model', model, '--catalog', catalog, '--out', join(dir, 'x.csv'), '--bogus');
    expect(unknownOption.status).toBe(code);
    expect(unknownOption.stderr).toMatch(/unknown option '--bogus'/);
    const unknownCommand = cli('nosuch');
    expect(unknownCommand.status).toBe(code);
    expect(unknownCommand.stderr).toMatch(/unknown command 'nosuch'/);
    const missing = cli('reprice', '--model', model);
    expect(missing.status).toBe(code);
    expect(missing.stderr).toMatch(/required option '--catalog <file>' not specified/);
    const bad = cli('reprice', '--model', model, '--catalog', catalog, '--out', join(dir, 'x.csv'), '--workers', 'two');
    expect(bad.status).toBe(code);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT: --workers must be an integer >= 1/);
  });

  it('3 (MODEL_INVALID, INPUT_ROW_INVALID): a model file that is not a model, a malformed row', () => {
    const notModel = join(dir, 'not-a-model.json');
    writeFileSync(notModel, '{"format": "something else"}');
    const r = cli('reprice', '--model', notModel, '--catalog', catalog, '--out', join(dir, 'x.csv'));
    expect(r.status).toBe(ERROR_CATALOG.MODEL_INVALID.exit);
    expect(r.stderr).toMatch(/^repricer: error MODEL_INVALID: .*not-a-model\.json/);
    const badRows = join(dir, 'bad-rows.csv');
    writeFileSync(badRows, 'product_id,f1,f2,f3\nP1,1,zz,3\n');
    const b = cli('reprice', '--model', model, '--catalog', badRows, '--out', join(dir, 'x.csv'));
    expect(b.status).toBe(ERROR_CATALOG.INPUT_ROW_INVALID.exit);
    expect(b.stderr).toMatch(/bad-rows\.csv:2: column f2/);
    // a short row is named as such, not by its first empty column (fast path and quoted path alike)
    for (const id of ['P1', '"P1"']) {
      const short = join(dir, 'short.csv');
      writeFileSync(short, `product_id,f1,f2,f3\n${id},1,2\n`);
      const r = cli('reprice', '--model', model, '--catalog', short, '--out', join(dir, 'x.csv'));
      expect(r.status).toBe(ERROR_CATALOG.INPUT_ROW_INVALID.exit);
      expect(r.stderr).toMatch(/short\.csv:2: column \(row\): expected 4 fields as in the header, got "3 fields"/);
    }
    // a folder where a file is expected: unreadable input, not a crash
    const asCsv = join(dir, 'a-folder.csv');
    mkdirSync(asCsv);
    const folder = cli('reprice', '--model', model, '--catalog', asCsv, '--out', join(dir, 'x.csv'));
    expect(folder.status).toBe(ERROR_CATALOG.INPUT_UNREADABLE.exit);
    expect(folder.stderr).toMatch(/INPUT_UNREADABLE: .*: not a file/);
    const folderModel = cli('reprice', '--model', dir, '--catalog', catalog, '--out', join(dir, 'x.csv'));
    expect(folderModel.status).toBe(ERROR_CATALOG.INPUT_UNREADABLE.exit);
    expect(folderModel.stderr).toMatch(/INPUT_UNREADABLE: .*cannot read model \(EISDIR\)/);
  });

  it('4 (NOT_FOUND): a missing model, catalogue, policy or observations file, a missing output folder; nothing written', () => {
    const code = ERROR_CATALOG.NOT_FOUND.exit;
    const before = readdirSync(dir).sort();
    const cases: [string[], RegExp][] = [
      [['reprice', '--model', join(dir, 'nope.json'), '--catalog', catalog, '--out', join(dir, 'y.csv')], /NOT_FOUND: .*nope\.json: no such model file/],
      [['reprice', '--model', model, '--catalog', join(dir, 'nope.csv'), '--out', join(dir, 'y.csv')], /NOT_FOUND: .*nope\.csv: no such catalogue file/],
      [['reprice', '--model', model, '--catalog', catalog, '--out', join(dir, 'y.csv'), '--policy', join(dir, 'nope-policy.json')], /NOT_FOUND: .*nope-policy\.json: no such policy file/],
      [['reprice', '--model', model, '--catalog', catalog, '--out', join(dir, 'no-such-folder', 'y.csv')], /NOT_FOUND: .*the output folder .*no-such-folder does not exist/],
      [['fit', '--observations', join(dir, 'nope-obs.csv'), '--out', join(dir, 'm.json')], /NOT_FOUND: .*nope-obs\.csv: no such observations file/],
      [['fit', '--observations', catalog, '--out', join(dir, 'no-such-folder', 'm.json')], /NOT_FOUND: .*the output folder .*no-such-folder does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });

  it('the table the README shows is the one the code uses', () => {
    expect(ERROR_CATALOG.INVALID_ARGUMENT.exit).toBe(2);
    expect(ERROR_CATALOG.MODEL_INVALID.exit).toBe(3);
    expect(ERROR_CATALOG.NOT_FOUND.exit).toBe(4);
  });
});
