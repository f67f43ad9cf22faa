/**
 * The batch job's default worker count (batch/workerCount.ts): one worker per 512 MiB of catalogue,
 * at least one and at most the cores, so a small catalogue runs on one worker (measured faster
 * on the project's 2-core machine, bench/RESULTS.md), and the job uses the rule when --workers is
 * not given.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BYTES_PER_WORKER, defaultWorkers } from '../src/batch/workerCount.js';
import { runReprice } from '../src/batch/job.js';
import { writeDemoCatalog, writeDemoModel } from '../src/batch/demoData.js';

describe('defaultWorkers', () => {
  it('one worker per BYTES_PER_WORKER of input, rounded up, between 1 and the cores', () => {
    expect(BYTES_PER_WORKER).toBe(512 * 2 ** 20);
    expect(defaultWorkers(0, 2)).toBe(1);
    expect(defaultWorkers(7_000_000, 2)).toBe(1); // 50 000 SKUs of the demo catalogue
    expect(defaultWorkers(144_000_000, 2)).toBe(1); // 1M SKUs
    expect(defaultWorkers(433_000_000, 2)).toBe(1); // 3M SKUs
    expect(defaultWorkers(1_440_000_000, 2)).toBe(2); // 10M SKUs
    expect(defaultWorkers(BYTES_PER_WORKER, 2)).toBe(1);
    expect(defaultWorkers(BYTES_PER_WORKER + 1, 2)).toBe(2);
    expect(defaultWorkers(10 * BYTES_PER_WORKER, 2)).toBe(2);
    expect(defaultWorkers(10 * BYTES_PER_WORKER, 16)).toBe(10);
    expect(defaultWorkers(100 * BYTES_PER_WORKER, 16)).toBe(16);
    expect(defaultWorkers(10 * BYTES_PER_WORKER, 1)).toBe(1);
    expect(defaultWorkers(10 * BYTES_PER_WORKER, 0)).toBe(1);
    expect(defaultWorkers(-1, 4)).toBe(1);
  });

  it('the job uses it without --workers: a small catalogue gets one worker whatever the cores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-workers-'));
    const spec = { products: 10, features: 2, seed: 1 };
    writeDemoModel(join(dir, 'm.json'), spec);
    await writeDemoCatalog(join(dir, 'c.csv'), 100, spec);
    const s = await runReprice({ modelPath: join(dir, 'm.json'), catalogPath: join(dir, 'c.csv'), outPath: join(dir, 'p.csv') });
    expect(s.workers).toBe(1);
    expect(availableParallelism()).toBeGreaterThanOrEqual(1);
  });
});
