/**
 * The README's API table (route | purpose | example, between `<!-- api:start -->` and
 * `<!-- api:end -->`) lists exactly the routes of the OpenAPI document with their summaries;
 * docs/api-table.md is the generated text to paste.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { apiTable } from '../scripts/docs-tables.js';
import { buildApp } from '../src/server/app.js';

function routesOf(md: string, where: string): Map<string, string> {
  const m = /<!-- api:start -->([\s\S]*?)<!-- api:end -->/.exec(md);
  if (!m) throw new Error(`${where}: no <!-- api:start --> ... <!-- api:end --> section (paste docs/api-table.md)`);
  const out = new Map<string, string>();
  for (const l of m[1].split('\n').map((s) => s.trim()).filter((s) => s.startsWith('| `'))) {
    const [route, purpose] = l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
    out.set(route.replace(/`/g, ''), purpose.replace(/ \(API key\)$/, ''));
  }
  return out;
}

async function openApiRoutes(): Promise<Map<string, string>> {
  const app = buildApp({ defaultMetrics: false, pool: false });
  await app.ready();
  const doc = app.swagger() as { paths: Record<string, Record<string, { summary?: string }>> };
  await app.close();
  const out = new Map<string, string>();
  for (const [p, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) out.set(`${method.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`, op.summary ?? '');
  return out;
}

describe('API table', () => {
  it('docs/api-table.md is the generator output and lists every route with its summary', async () => {
    const text = readFileSync('docs/api-table.md', 'utf8');
    expect(text).toBe(await apiTable());
    expect([...routesOf(text, 'docs/api-table.md')].sort()).toEqual([...(await openApiRoutes())].sort());
  });

  it('the README table lists the same routes', async () => {
    expect(existsSync('README.md'), 'README.md exists').toBe(true);
    expect([...routesOf(readFileSync('README.md', 'utf8'), 'README.md').keys()].sort()).toEqual([...(await openApiRoutes()).keys()].sort());
  });
});
