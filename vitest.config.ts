import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // the JSON report feeds .ci/run's plain "N passed, N failed" line
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-report.json' }]],
  },
});
