/**
 * The README documents the whole command line and the policy file: the test walks commander's
 * program (src/cli/program.ts, the one main.ts runs) and finds every command in the README's
 * command table or its own section, and every long option of a command in that command's table row
 * or section; and every field and enumerated value of the policy schema in the README.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import { policySchema } from '../src/pricing/policy.js';

const readme = readFileSync('README.md', 'utf8');

/** The README's text about `repricer <path>`: its rows of the command table and its `###` section. */
export function commandText(md: string, path: string): string {
  const lines = md.split('\n');
  const out: string[] = [];
  const row = new RegExp(`^\\| \`repricer ${path.replace(/ /g, ' ')}( |\`)`);
  for (const l of lines) if (row.test(l)) out.push(l);
  const head = lines.findIndex((l) => l.trim() === `### \`repricer ${path}\``);
  if (head >= 0) {
    for (let i = head + 1; i < lines.length && !/^#{1,3} /.test(lines[i]); i++) out.push(lines[i]);
  }
  return out.join('\n');
}

/** Every command below `cmd` as [path, its long options]. */
function walk(cmd: Command, prefix = ''): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const sub of cmd.commands) {
    const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
    // hidden options (a test's switch such as bench --smoke) are not part of the documented interface
    out.push([path, sub.options.filter((o) => !o.hidden).map((o) => o.long).filter((l): l is string => l !== undefined)]);
    out.push(...walk(sub, path));
  }
  return out;
}

/** Dotted paths of the leaf fields and the enumerated values of a JSON schema (a map's values by their own names). */
function schemaNames(schema: unknown, prefix = ''): { fields: string[]; values: string[] } {
  const fields: string[] = [];
  const values: string[] = [];
  const s = schema as { properties?: Record<string, unknown>; enum?: unknown[] };
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    const sub = schemaNames(v, path);
    if (sub.fields.length === 0) fields.push(path); // a leaf (an object is documented by its fields)
    fields.push(...sub.fields);
    values.push(...sub.values);
  }
  for (const e of s.enum ?? []) values.push(String(e));
  return { fields, values };
}

describe('README and the command line', () => {
  it('documents every command and every long option of each', async () => {
    const program = await buildProgram();
    const commands = walk(program);
    expect(commands.map(([p]) => p)).toEqual(expect.arrayContaining(['fit', 'reprice', 'serve', 'simulate rfq', 'simulate coldstart', 'demo']));
    const missing: string[] = [];
    for (const [path, options] of commands) {
      const text = commandText(readme, path);
      const isGroup = program.commands.find((c) => c.name() === path)?.commands.length;
      if (text === '' && !isGroup) missing.push(`repricer ${path}: no row in the command table and no section`);
      for (const o of options) if (!text.includes(o)) missing.push(`repricer ${path} ${o}`);
    }
    for (const o of ['--help', '--version']) if (!readme.includes(`repricer ${o}`)) missing.push(`repricer ${o}`);
    expect(missing).toEqual([]);
  });

  it('documents every policy field and value', () => {
    const { fields, values } = schemaNames(policySchema);
    expect(fields).toContain('rounding.mode');
    const missing = [...fields, ...values].filter((f) => !readme.includes(`\`${f}\``));
    expect(missing).toEqual([]);
  });

  it('companion: an option left out of the README is found', () => {
    const text = commandText(readme, 'fit').replaceAll('--no-intercept', '');
    expect(text.includes('--no-intercept')).toBe(false);
    expect(commandText(readme, 'fit')).toContain('--no-intercept');
    expect(commandText(readme.replace(/^\| `repricer simulate coldstart.*$/m, '').replace(/### `repricer simulate coldstart`/, '### gone'), 'simulate coldstart')).toBe('');
  });
});
