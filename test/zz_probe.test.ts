import { it } from 'vitest';
import { runWatcherSim } from '../src/sim/marketWatcher.js';
import { watcherScenario } from '../src/sim/marketWatcherScenario.js';
import { resolveWatcherSettings } from '../src/market/watcherSettings.js';
it('p', () => {
  for (const [warm, mw] of [[24, 12], [48, 12]]) {
  const t0 = Date.now();
  const r = runWatcherSim(watcherScenario({ settings: resolveWatcherSettings({ warmupPeriods: warm }), seeds: 10, minWindow: mw }));
  const out: string[] = [`warm ${warm} minWindow ${mw}: ${Date.now() - t0} ms`];
  for (const pol of ['watcher', 'schedule', 'clairvoyant']) {
    const rows = r.rows.filter((x) => x.policy === pol);
    const m = (f: (x: (typeof rows)[0]) => number) => (rows.reduce((s, x) => s + f(x), 0) / rows.length).toFixed(3);
    out.push(`${pol}: changes ${m((x) => x.priceChanges)} revenue ${m((x) => x.revenue)} err ${m((x) => x.priceErrorPct)} react ${[0, 1, 2, 3].map((j) => m((x) => x.reaction[j] ?? NaN)).join(' ')} false ${m((x) => x.falseTriggers)} / ${m((x) => x.monitoredPeriods)}`);
  }
  out.push(JSON.stringify(r.rows.filter((x) => x.policy === 'watcher').map((x) => x.reaction))); process.stderr.write(out.join('\n') + '\n');
  }
}, 300000);
