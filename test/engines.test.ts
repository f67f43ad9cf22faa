/**
 * Every package the lockfile installs supports the oldest Node the project supports (package.json
 * "engines"), so `npm ci` on that Node installs without an EBADENGINE warning. (cookie 2 declares
 * Node >= 22; package.json's "overrides" keep fastify's light-my-request on cookie 1.1.1.)
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };

describe('engines', () => {
  it('every locked package accepts the oldest supported Node', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(oldest).toBe('20.19.0');
    const refusing = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && !Array.isArray(p.engines) && p.engines?.node !== undefined && !semver.satisfies(oldest, p.engines.node))
      .map(([name, p]) => `${name}@${p.version}: node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
