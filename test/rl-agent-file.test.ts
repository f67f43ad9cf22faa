/**
 * The agent file `repricer.agent/1` (src/rl/agentFile.ts): exact round trip, parameters as
 * little-endian f32 (checked against the bytes of a Float32Array), a hash independent of key order,
 * and validation errors that name the field at fault.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlpTwin } from '../src/core/twin/mlp.js';
import { configHash, decodeParams, denseParamCount, encodeParams, loadAgent, parseAgent, saveAgent, serializeAgent, type AgentFile } from '../src/rl/agentFile.js';
import { algoSettings } from '../src/rl/td3.js';
import { trainRetailAgent } from '../src/sim/retailTraining.js';
import { checkRetailEnv } from '../src/sim/retailEnv.js';
import { RepricerError } from '../src/core/errors.js';

const env = checkRetailEnv({ days: 5, initial_stock: 100 });
const small = (): AgentFile =>
  trainRetailAgent({ env, guardrails: { floorOverCost: 1.1, maxStepPct: 50, ceilingOverP0: 10 }, episodes: 2, seed: 3, reward: 'blend', settings: algoSettings('td3', { hidden: [4, 3], batchSize: 4 }) }, createMlpTwin).agent;

function errorOf(obj: unknown): string {
  try {
    parseAgent(JSON.stringify(obj), 'agent.json');
  } catch (e) {
    expect(e).toBeInstanceOf(RepricerError);
    expect((e as RepricerError).code).toBe('INPUT_UNREADABLE');
    return (e as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('repricer.agent/1', () => {
  it('round-trips byte for byte, parameters bit for bit', () => {
    const a = small();
    expect(a.actor.sizes).toEqual([3, 4, 3, 1]);
    const text = serializeAgent(a);
    const back = parseAgent(text);
    expect(serializeAgent(back.agent)).toBe(text);
    expect(back.actorParams.length).toBe(denseParamCount([3, 4, 3, 1]));
    expect(back.actorParams.length).toBe(3 * 4 + 4 + 4 * 3 + 3 + 3 + 1);
    expect(encodeParams(back.actorParams)).toBe(a.actor.params);
    const dir = mkdtempSync(join(tmpdir(), 'rl-agent-'));
    try {
      const f = join(dir, 'agent.json');
      saveAgent(f, a);
      expect(readFileSync(f, 'utf8')).toBe(text);
      expect(Array.from(loadAgent(f).actorParams)).toEqual(Array.from(back.actorParams));
      expect(() => loadAgent(join(dir, 'missing.json'))).toThrow(/no such agent file/);
      writeFileSync(f, '{"format": ');
      expect(() => loadAgent(f)).toThrow(/agent\.json: invalid agent file: not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores f32 parameters as base64 of their little-endian bytes', () => {
    const p = Float32Array.of(1, -2, 0.5, 3.4028234663852886e38, 1.401298464324817e-45);
    // the bytes of a Float32Array on a little-endian machine are the reference
    expect(encodeParams(p)).toBe(Buffer.from(p.buffer).toString('base64'));
    expect(encodeParams(Float32Array.of(1))).toBe('AACAPw=='); // 0x3f800000, little-endian
    expect(Array.from(decodeParams(encodeParams(p)))).toEqual(Array.from(p));
  });

  it('hashes the environment independently of key order', () => {
    expect(configHash({ a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] } })).toBe(configHash({ b: { d: [3, { f: 5, e: 4 }], c: 2 }, a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
    expect(configHash({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('names the field in every validation error', () => {
    const a = small();
    const clone = (): AgentFile => JSON.parse(JSON.stringify(a)) as AgentFile;
    let b = clone();
    delete (b.training as Partial<AgentFile['training']>).gamma;
    expect(errorOf(b)).toMatch(/agent\.json: invalid agent file: training\.gamma: is required/);
    b = clone();
    (b as { algo: string }).algo = 'ppo';
    expect(errorOf(b)).toMatch(/algo: must be one of td3, ddpg/);
    b = clone();
    (b as { format: string }).format = 'repricer.agent/2';
    expect(errorOf(b)).toMatch(/format: must be "repricer.agent\/1"/);
    b = clone();
    (b.guardrails as { maxStepPct: number }).maxStepPct = 150;
    expect(errorOf(b)).toMatch(/guardrails\.maxStepPct/);
    b = clone();
    (b as unknown as Record<string, unknown>).extra = 1;
    expect(errorOf(b)).toMatch(/extra: is not a field/);
    b = clone();
    b.actor.params = encodeParams(new Float32Array(5));
    expect(errorOf(b)).toMatch(/actor\.params: layer sizes \[3, 4, 3, 1\] need 35 f32 values, got 5/);
    b = clone();
    const p = decodeParams(b.actor.params);
    p[7] = NaN;
    b.actor.params = encodeParams(p);
    expect(errorOf(b)).toMatch(/actor\.params: value 7 is NaN/);
    b = clone();
    b.actor.params = 'not base64!';
    expect(errorOf(b)).toMatch(/actor\.params/);
    b = clone();
    b.env.config.days = 6;
    expect(errorOf(b)).toMatch(/env\.hash: .* is not the hash of env\.config/);
    b = clone();
    b.state.features = ['a', 'b'];
    expect(errorOf(b)).toMatch(/actor\.sizes: the input layer has 3 units but state\.features names 2/);
    b = clone();
    b.training.criticSizes = [3, 4, 3, 1];
    expect(errorOf(b)).toMatch(/training\.criticSizes: expected 4 inputs/);
    b = clone();
    b.training.episodeReturns.pop();
    expect(errorOf(b)).toMatch(/training\.episodeReturns: expected one return per episode \(2\), got 1/);
  });
});
