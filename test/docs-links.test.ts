/**
 * Every relative link in every Markdown file of the repository points at something that exists in
 * the repository: `[text](target)`, `![alt](target)` and `[label]: target` definitions, outside
 * code. A target must resolve inside the repository (a clone has nothing beside it), the file or
 * directory must exist, and a `#fragment` into a Markdown file (or `#fragment` alone, into the
 * same file) must name one of its headings by GitHub's anchor rules. http(s):, mailto: and other
 * URLs with a scheme are not checked. The companion tests feed the checker deliberately broken
 * Markdown, so this test can fail.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.git', '.tmp']);

/** Markdown files of the repository (git's view: tracked plus untracked, not ignored), repo-relative. */
function markdownFiles(root: string): string[] {
  let files: string[];
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.md'], { cwd: root, encoding: 'utf8' });
    files = [...new Set(out.split('\0').filter((f) => f !== ''))];
  } catch {
    files = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name)) walk(join(dir, e.name));
        } else if (e.isFile() && e.name.toLowerCase().endsWith('.md')) files.push(join(dir, e.name));
      }
    };
    walk('');
  }
  return files
    .filter((f) => !f.split(/[\\/]/).some((part) => SKIP_DIRS.has(part)))
    .filter((f) => existsSync(join(root, f)))
    .sort();
}

/**
 * The text with code blocks, inline code and HTML comments blanked out (line structure kept, so
 * line numbers stay right). Fenced blocks open with ``` or ~~~ (3 or more) and close with the same
 * character, at least as many times; indented code blocks are rare in this repository and left in.
 */
export function stripCode(md: string): string {
  const lines = md.split('\n');
  let fence: { ch: string; len: number } | null = null;
  const out: string[] = [];
  for (const line of lines) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1][0] === fence.ch && m[1].length >= fence.len && line.trim() === m[1]) fence = null;
      out.push('');
      continue;
    }
    if (m) {
      fence = { ch: m[1][0], len: m[1].length };
      out.push('');
      continue;
    }
    out.push(line);
  }
  let text = out.join('\n');
  text = text.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '));
  // inline code spans: a run of n backticks up to the next run of exactly n backticks
  text = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (c) => c.replace(/[^\n]/g, ' '));
  return text;
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links and images, and reference definitions, outside code. */
export function extractLinks(md: string): Link[] {
  const text = stripCode(md);
  const links: Link[] = [];
  const lineAt = (index: number): number => text.slice(0, index).split('\n').length;
  // [text](target) and ![alt](target); the text may hold one level of nested brackets
  const inline = /!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  for (let m = inline.exec(text); m !== null; m = inline.exec(text)) {
    let target = m[1];
    if (target.startsWith('<') && target.endsWith('>')) target = target.slice(1, -1);
    links.push({ line: lineAt(m.index), target });
  }
  const def = /^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm;
  for (let m = def.exec(text); m !== null; m = def.exec(text)) {
    let target = m[1];
    if (target.startsWith('<') && target.endsWith('>')) target = target.slice(1, -1);
    links.push({ line: lineAt(m.index), target });
  }
  return links;
}

/** GitHub's anchor for a heading text: inline markup dropped, lower case, punctuation removed, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images keep their text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/`/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown document defines: its ATX headings (with GitHub's -1, -2 suffixes) and explicit id/name attributes. */
export function anchors(md: string): Set<string> {
  const text = stripCode(md);
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (m) {
      const base = slug(m[1]);
      const k = seen.get(base) ?? 0;
      seen.set(base, k + 1);
      out.add(k === 0 ? base : `${base}-${k}`);
    }
    for (const a of line.matchAll(/<[a-z][^>]*\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) out.add(a[1]);
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Problems with the links of one Markdown document (`file`: its absolute path, `md`: its text);
 * `read` supplies the text of other Markdown files for fragment checks. Empty when all is well.
 */
export function checkMarkdown(file: string, md: string, root: string, read: (abs: string) => string = (p) => readFileSync(p, 'utf8')): string[] {
  const problems: string[] = [];
  const rel = relative(root, file);
  for (const { line, target } of extractLinks(md)) {
    const where = `${rel}:${line}: link ${JSON.stringify(target)}`;
    if (target === '') {
      problems.push(`${where}: empty target`);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // http:, https:, mailto:, …
    const hash = target.indexOf('#');
    const pathPart = decode(hash === -1 ? target : target.slice(0, hash));
    const fragment = hash === -1 ? undefined : decode(target.slice(hash + 1));
    let abs: string;
    if (pathPart === '') abs = file;
    else if (pathPart.startsWith('/')) abs = join(root, pathPart);
    else abs = resolve(dirname(file), pathPart.split('?')[0]);
    const inside = relative(root, abs);
    if (inside === '..' || inside.startsWith('..' + sep) || isAbsolute(inside)) {
      problems.push(`${where}: points outside the repository (${abs})`);
      continue;
    }
    if (abs !== file && !existsSync(abs)) {
      problems.push(`${where}: ${inside} does not exist`);
      continue;
    }
    if (fragment !== undefined && fragment !== '' && (abs === file || (statSync(abs).isFile() && abs.toLowerCase().endsWith('.md')))) {
      const text = abs === file ? md : read(abs);
      if (!anchors(text).has(fragment)) problems.push(`${where}: no heading with anchor #${fragment} in ${inside}`);
    }
  }
  return problems;
}

describe('Markdown links', () => {
  const files = markdownFiles(ROOT);

  it('finds the Markdown files of the repository', () => {
    expect(files).toContain('README.md');
    expect(files.some((f) => f.startsWith('docs/'))).toBe(true);
  });

  it('every relative link and anchor resolves inside the repository', () => {
    const problems = files.flatMap((f) => checkMarkdown(join(ROOT, f), readFileSync(join(ROOT, f), 'utf8'), ROOT));
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('the link checker fails on broken links (companion)', () => {
  const fake = join(ROOT, 'docs', 'synthetic.md');

  it('reports a link to a missing file', () => {
    const p = checkMarkdown(fake, 'See [the spec](no-such-file.md) for details.\n', ROOT);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/no-such-file\.md does not exist/);
  });

  it('reports a link that leaves the repository, even if the target exists on this machine', () => {
    const p = checkMarkdown(fake, `[outside](../../${'x'.repeat(3)}.md) and [root parent](../../)\n`, ROOT);
    expect(p).toHaveLength(2);
    for (const s of p) expect(s).toMatch(/outside the repository/);
  });

  it('reports a missing anchor, in the same file and in another file', () => {
    const md = '# Title\n\n## Section one\n\n[ok](#section-one) [bad](#section-two) [ok too](math.md#15-virtual-valuation-and-the-optimal-price) [bad too](math.md#no-such-heading)\n';
    const p = checkMarkdown(fake, md, ROOT);
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(/#section-two/);
    expect(p[1]).toMatch(/#no-such-heading in docs[\\/]math\.md/);
  });

  it('accepts good links and ignores code, URLs and mail addresses', () => {
    const md = [
      '[math](math.md), [readme](../README.md), ![img](../docs/math.md "title"), [dir](../src/)',
      '[web](https://example.com/x.md) [mail](mailto:a@b.c)',
      '`[not a link](missing.md)`',
      '```',
      '[not a link either](missing.md)',
      '```',
      '[ref]: formats.md#price-records',
    ].join('\n');
    expect(checkMarkdown(fake, md, ROOT)).toEqual([]);
  });

  it('reports a broken reference definition and gives the line', () => {
    const p = checkMarkdown(fake, 'line one\n\n[ref]: missing-dir/file.md\n', ROOT);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/synthetic\.md:3:/);
  });

  it('slugs headings like GitHub', () => {
    expect(slug('1.4 Censored log-likelihood with gradient and Hessian')).toBe('14-censored-log-likelihood-with-gradient-and-hessian');
    expect(slug('HTTP API (`repricer serve`)')).toBe('http-api-repricer-serve');
    expect(slug('3. Avellaneda–Stoikov quoting (not implemented)')).toBe('3-avellanedastoikov-quoting-not-implemented');
    expect([...anchors('# A\n## A\n## A\n')]).toEqual(['a', 'a-1', 'a-2']);
  });
});
