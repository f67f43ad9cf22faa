/**
 * `repricer rl` and `simulate retail --agent` as real processes on the built CLI: the README's
 * examples run as written (train a small agent, evaluate it against the simulator's policies on the
 * same seasons, run it as a simulate retail policy, plot its curve); curves averages over seeds;
 * and the bad cases exit with the README's codes and messages that name the option or the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('dist/src/cli/main.js');
let dir: string;
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error('dist/src/cli/main.js missing: run `npm run build` first');
  dir = mkdtempSync(join(tmpdir(), 'rl-cli-'));
  writeFileSync(join(dir, 'env.json'), JSON.stringify({ days: 6, initial_stock: 200, returns: { kind: 'constant', rate: 0 }, return_cost: 0, holding_cost: 0 }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TRAIN = ['rl', 'train', '--env', 'env.json', '--episodes', '4', '--seed', '3', '--hidden', '8,8', '--batch-size', '8'];

describe('repricer rl', () => {
  it("the README's rl examples run as written; evaluate, simulate retail --agent and curves use the agent", () => {
    // the fenced block of README.md's `repricer rl` section, run through bash with repricer = the built CLI
    const md = readFileSync('README.md', 'utf8');
    const sec = md.slice(md.indexOf('### `repricer rl`'));
    const block = /```sh\n([\s\S]*?)```/.exec(sec)![1].trim().split('\n');
    expect(block.length).toBe(4);
    mkdirSync(join(dir, 'docs', 'rl'), { recursive: true });
    copyFileSync('docs/rl/retail-design.json', join(dir, 'docs', 'rl', 'retail-design.json'));
    const outs = block.map((line) => {
      expect(line.startsWith('repricer ')).toBe(true);
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${MAIN}" ${line.slice('repricer '.length)}`], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${line}: ${r.stderr}`).toBe(0);
      return r;
    });
    expect(outs[0].stderr).toMatch(/trained in [\d.]+ s: 90 steps, 75 updates/);
    const agent = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));
    expect(agent).toMatchObject({ format: 'repricer.agent/1', algo: 'td3', actor: { sizes: [3, 16, 16, 1] }, guardrails: { maxStepPct: 50 }, training: { episodes: 3, reward: 'blend' } });
    expect(outs[1].stdout).toMatch(/^td3 /m);
    expect(outs[1].stdout).toMatch(/^dp-optimum /m);
    expect(outs[1].stderr).toMatch(/td3: of 600 priced days the floor bound \d+/);
    expect(outs[1].stderr).toMatch(/mean return per season under the blend \/ profit reward: cost-plus [\d.]+ \/ 2\.500, optimizer [\d.]+ \/ 10\.000, .*td3 /);
    const sim = JSON.parse(readFileSync(join(dir, 'runs', 'rl-sim', 'summary.json'), 'utf8'));
    expect(Object.keys(sim.policies)).toEqual(['cost-plus', 'optimizer', 'optimizer-skew', 'dp-optimum', 'td3']);
    expect(sim.config.guardrails.maxStepPct).toBe(50);
    expect(sim.config.agent.envHash).toBe(agent.env.hash);
    // evaluate and simulate play the same seasons (seed 1, 20 episodes): the agent's mean profit agrees
    const row = (t: string) => /^td3 .*$/m.exec(t)![0];
    expect(row(outs[2].stdout)).toBe(row(outs[1].stdout));
    expect(readFileSync(join(dir, 'curves.svg'), 'utf8')).toMatch(/^<svg[\s\S]*td3 \(blend reward\) \(1 seeds\)[\s\S]*<\/svg>\n$/);
  });

  it('curves averages runs over seeds', () => {
    expect(run(...TRAIN, '--out', 'a.json').code).toBe(0);
    const c = run('rl', 'curves', 'a.json', 'a.json', '--out', 'c.svg', '--csv', 'c.csv', '--window', '2');
    expect(c.code, c.err).toBe(0);
    const rows = readFileSync(join(dir, 'c.csv'), 'utf8').trim().split('\n');
    expect(rows.length).toBe(1 + 4);
    // the same run twice: sd 0; the mean of episode 2 is the mean of the first two returns
    const ret = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')).training.episodeReturns as number[];
    expect(rows[2]).toMatch(/^td3 \(blend reward\),2,1,[-\d.e]+,0$/);
    expect(Number(rows[2].split(',')[3])).toBeCloseTo((ret[0] + ret[1]) / 2, 8);
  });

  it('refuses bad options and bad agent files with the documented exit codes', () => {
    let r = run('rl', 'train', '--env', 'env.json', '--algo', 'ppo', '--out', 'x.json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--algo must be one of td3, ddpg, got "ppo"/);
    r = run('simulate', 'retail', '--env', 'env.json', '--agent', 'a.json', '--max-step', '10', '--episodes', '2', '--out', 'o');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--max-step 10: the agent a\.json was trained with a largest step of 50 %/);
    r = run('simulate', 'retail', '--env', 'env.json', '--policies', 'td3', '--episodes', '2', '--out', 'o');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown policy "td3" .*give its file with --agent/);
    const bad = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    bad.training.tau = 2;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    r = run('rl', 'evaluate', '--agent', 'bad.json', '--seeds', '2');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/bad\.json: invalid agent file: training\.tau/);
  });
});
