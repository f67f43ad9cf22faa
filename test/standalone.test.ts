/**
 * The repository stands alone: no tracked file points at documents outside it or at tracker
 * numbers a user cannot look up. Its own docs are docs/math.md, docs/formats.md and
 * docs/architecture.md (test/docs-links.test.ts checks that every relative link resolves).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// built from pieces so this file does not match itself
const outside = ['MATH', 'FORMATS', 'DESIGN', 'STYLE', 'TOOLCHAIN'].map((n) => `(?<![\\w/])${n}\\.md`);
const FORBIDDEN = new RegExp([...outside, '\\.\\./' + 'shared', '/work/' + 'shared', '\\b[Ii]ssue' + ' #?[0-9]+'].join('|'));

function citationsOutside(text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (FORBIDDEN.test(line)) hits.push(`${i + 1}: ${line.trim().slice(0, 120)}`);
  });
  return hits;
}

describe('the repository stands alone', () => {
  it('no tracked text file cites a document outside the repo or an issue number', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter((f) => /\.(ts|mjs|js|md|py|json|sh)$|^\.ci\//.test(f));
    const bad: string[] = [];
    for (const f of files) {
      for (const h of citationsOutside(readFileSync(join(root, f), 'utf8'))) bad.push(`${f}:${h}`);
    }
    expect(bad).toEqual([]);
  });

  it('the check can fail: each kind of outside citation is caught, the repo\'s own docs are not', () => {
    const sample = ['see MATH' + '.md §1.5', 'FORMATS' + '.md columns', '[x](../' + 'shared/a.md)', 'done in issue' + ' 4', 'docs/math.md §1.5 and docs/formats.md'].join('\n');
    expect(citationsOutside(sample).map((h) => h.split(':')[0])).toEqual(['1', '2', '3', '4']);
  });
});
