/**
 * Outputs of `simulate marketplace --watcher` (docs/marketplace.md "Watcher"): watcher.csv (one
 * row per policy and seed), reactions.csv (hours from each demand change to each policy's first
 * repricing of the zone), triggers.csv (the watcher's evidence log), summary.json (mean, sd, min
 * and max over seeds; the false triggers against the designed rate), watcher.svg (seed 1's prices
 * of each zone's first asset) and the stdout table.
 */
import { WATCHER_SIGNALS } from '../market/watcherSettings.js';
import { WATCHER_POLICIES, WATCHER_SIM_START, type WatcherPolicy, type WatcherSimResult } from './marketWatcher.js';
import { esc, niceStep } from './report.js';

function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** watcher.csv: one row per policy and seed. */
export function watcherCsv(r: WatcherSimResult): string {
  const lines = ['policy,seed,price_changes,level_repricings,revenue,price_error_pct,false_triggers,monitored_periods'];
  for (const x of r.rows) lines.push(`${x.policy},${x.seed},${x.priceChanges},${x.levelRepricings},${num(x.revenue)},${num(x.priceErrorPct)},${x.falseTriggers},${x.monitoredPeriods}`);
  return lines.join('\n') + '\n';
}

export function reactionsCsv(r: WatcherSimResult): string {
  const lines = ['policy,seed,change,zone,hour,reaction_hours'];
  for (const x of r.rows) r.changes.forEach((c, j) => lines.push(`${x.policy},${x.seed},${csvField(c.label)},${csvField(c.zone)},${c.hour},${x.reaction[j] === null ? '' : num(x.reaction[j]!)}`));
  return lines.join('\n') + '\n';
}

export function triggersCsv(r: WatcherSimResult): string {
  const head = ['seed', 'segment', 'time', 'kind', 'direction', 'statistic', 'threshold', 'change_time', 'periods_since_change', 'combined', ...WATCHER_SIGNALS.map((s) => `z_${s}`), ...WATCHER_SIGNALS.map((s) => `accumulated_${s}`)];
  const lines = [head.join(',')];
  for (const { seed, trigger: t } of r.triggers) {
    lines.push([String(seed), csvField(t.segment), t.time, t.kind, t.direction, num(t.statistic), num(t.threshold), t.changeTime, String(t.periodsSinceChange), num(t.combined), ...t.signals.map((s) => num(s.z)), ...t.signals.map((s) => num(s.accumulated))].join(','));
  }
  return lines.join('\n') + '\n';
}

export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** seeds with a value (reactions: not missed) */
  n: number;
}

function spread(xs: number[]): Spread {
  const n = xs.length;
  if (n === 0) return { mean: NaN, sd: NaN, min: NaN, max: NaN, n: 0 };
  const m = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)) : 0;
  const r = (v: number) => Number(v.toPrecision(8));
  return { mean: r(m), sd: r(sd), min: r(Math.min(...xs)), max: r(Math.max(...xs)), n };
}

export interface WatcherSimSummary {
  format: 'repricer.simulate-marketplace-watcher/1';
  days: number;
  seeds: number;
  scheduleHours: number;
  settings: WatcherSimResult['config']['settings'];
  threshold: number;
  calendar: { zone: string; start: string; end: string; multiplier: number; name: string }[];
  shifts: WatcherSimResult['config']['shifts'];
  controlZones: string[];
  policies: Record<WatcherPolicy, { priceChanges: Spread; levelRepricings: Spread; revenue: Spread; priceErrorPct: Spread; reactionHours: { change: string; hours: Spread; missed: number }[] }>;
  /** the watcher's triggers in the control zones against monitoredPeriods / arl0 */
  falseTriggers: { observed: number; monitoredPeriods: number; expected: number; designedRatePer1000: number; observedRatePer1000: number; ratio: number; poissonZ: number };
}

export function watcherSummary(r: WatcherSimResult): WatcherSimSummary {
  const c = r.config;
  const policies = {} as WatcherSimSummary['policies'];
  for (const p of WATCHER_POLICIES) {
    const rows = r.rows.filter((x) => x.policy === p);
    policies[p] = {
      priceChanges: spread(rows.map((x) => x.priceChanges)),
      levelRepricings: spread(rows.map((x) => x.levelRepricings)),
      revenue: spread(rows.map((x) => x.revenue)),
      priceErrorPct: spread(rows.map((x) => x.priceErrorPct)),
      reactionHours: r.changes.map((ch, j) => {
        const got = rows.map((x) => x.reaction[j]).filter((v): v is number => v !== null);
        return { change: ch.label, hours: spread(got), missed: rows.length - got.length };
      }),
    };
  }
  const w = r.rows.filter((x) => x.policy === 'watcher');
  const observed = w.reduce((a, x) => a + x.falseTriggers, 0);
  const monitored = w.reduce((a, x) => a + x.monitoredPeriods, 0);
  const expected = monitored / c.settings.arl0;
  const r6 = (v: number) => Number(v.toPrecision(6));
  return {
    format: 'repricer.simulate-marketplace-watcher/1',
    days: c.days,
    seeds: c.seeds,
    scheduleHours: c.every,
    settings: c.settings,
    threshold: r6(r.threshold),
    calendar: c.calendar.events.map((e) => ({ zone: e.zone, start: new Date(e.start).toISOString(), end: new Date(e.end).toISOString(), multiplier: e.multiplier, name: e.name })),
    shifts: c.shifts,
    controlZones: r.controlZones,
    policies,
    falseTriggers: {
      observed,
      monitoredPeriods: monitored,
      expected: r6(expected),
      designedRatePer1000: r6(1000 / c.settings.arl0),
      observedRatePer1000: monitored > 0 ? r6((1000 * observed) / monitored) : NaN,
      ratio: expected > 0 ? r6(observed / expected) : NaN,
      poissonZ: expected > 0 ? r6((observed - expected) / Math.sqrt(expected)) : NaN,
    },
  };
}

function ms(s: Spread, digits = 1): string {
  if (s.n === 0) return '-';
  return `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} [${s.min.toFixed(digits)}, ${s.max.toFixed(digits)}]`;
}

/** The stdout table: per policy, mean ± sd [min, max] over seeds; then the false triggers. */
export function watcherTable(s: WatcherSimSummary): string {
  const changes = s.policies.watcher.reactionHours.map((x) => x.change);
  const head = ['policy', 'price changes', 'of them by the level check', 'revenue', 'price error %', ...changes.map((c) => `react h: ${c}`)];
  const rows = WATCHER_POLICIES.map((p) => {
    const v = s.policies[p];
    return [p, ms(v.priceChanges), ms(v.levelRepricings), ms(v.revenue, 0), ms(v.priceErrorPct, 2), ...v.reactionHours.map((x) => ms(x.hours) + (x.missed ? ` (${x.missed} missed)` : ''))];
  });
  const out: string[] = [];
  // one block per policy: the columns are too many for one line
  for (const r of rows) {
    out.push(r[0]);
    for (let i = 1; i < head.length; i++) out.push(`  ${head[i].padEnd(Math.max(...head.map((h) => h.length)))}  ${r[i]}`);
  }
  const f = s.falseTriggers;
  out.push(`false triggers in ${s.controlZones.join(', ') || '(no control zone)'}: ${f.observed} in ${f.monitoredPeriods} monitored periods = ${f.observedRatePer1000} per 1000 (designed ${f.designedRatePer1000}; expected ${f.expected}, ratio ${f.ratio})`);
  return out.join('\n') + '\n';
}

const COLORS: Record<WatcherPolicy, string> = { watcher: '#d62728', schedule: '#1f77b4', clairvoyant: '#7f7f7f' };

/** watcher.svg: seed 1's price of each zone's first asset against hours, one panel per zone, changes dashed. */
export function watcherSvg(r: WatcherSimResult, title: string): string {
  const c = r.config;
  const zones = c.world.zones;
  const asset = c.world.assets[0];
  const H = c.days * 24;
  const W = 760;
  const L = 70;
  const R = 130;
  const Tm = 40;
  const panel = 130;
  const gap = 30;
  const B = 40;
  const height = Tm + zones.length * (panel + gap) - gap + B;
  const f = (v: number) => v.toFixed(1);
  const px = (h: number) => L + ((W - L - R) * h) / H;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${height}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  const xstep = niceStep(H / 24, 6);
  zones.forEach((zone, zi) => {
    const top = Tm + zi * (panel + gap);
    const seg = `${zone}/${asset}`;
    const paths = r.paths.filter((p) => p.segment === seg);
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of paths) for (const [, v] of p.steps) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const pad = Math.max(1e-9, (hi - lo) * 0.1);
    lo -= pad;
    hi += pad;
    const py = (v: number) => top + (panel * (hi - v)) / (hi - lo);
    out.push(`<line x1="${L}" x2="${W - R}" y1="${top + panel}" y2="${top + panel}" stroke="black"/>`);
    out.push(`<line x1="${L}" x2="${L}" y1="${top}" y2="${top + panel}" stroke="black"/>`);
    out.push(`<text x="${L + 6}" y="${top + 12}">${esc(seg)}</text>`);
    const ys = niceStep(hi - lo, 3);
    for (let v = Math.ceil(lo / ys) * ys; v <= hi; v += ys) {
      out.push(`<line x1="${L}" x2="${W - R}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#eeeeee"/>`);
      out.push(`<text x="${L - 6}" y="${f(py(v) + 4)}" text-anchor="end">${Number(v.toPrecision(6))}</text>`);
    }
    for (const ch of r.changes.filter((x) => x.zone === zone)) {
      out.push(`<line x1="${f(px(ch.hour))}" x2="${f(px(ch.hour))}" y1="${top}" y2="${top + panel}" stroke="#555555" stroke-dasharray="4 3"/>`);
      if (ch.known > 0) out.push(`<line x1="${f(px(ch.hour - ch.known))}" x2="${f(px(ch.hour - ch.known))}" y1="${top}" y2="${top + panel}" stroke="#bbbbbb" stroke-dasharray="2 3"/>`);
    }
    for (const p of paths) {
      const pts: string[] = [];
      p.steps.forEach(([h, v], k) => {
        if (k > 0) pts.push(`${f(px(h))},${f(py(p.steps[k - 1][1]))}`);
        pts.push(`${f(px(h))},${f(py(v))}`);
      });
      pts.push(`${f(px(H))},${f(py(p.steps[p.steps.length - 1][1]))}`);
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${COLORS[p.policy]}" stroke-width="${p.policy === 'clairvoyant' ? 3 : 1.5}" stroke-opacity="${p.policy === 'clairvoyant' ? 0.5 : 1}"/>`);
    }
    for (const { seed, trigger } of r.triggers) {
      if (seed !== 1 || trigger.segment !== seg) continue;
      const h = (Date.parse(trigger.time) - WATCHER_SIM_START) / 3600_000;
      out.push(`<circle cx="${f(px(h))}" cy="${top + panel - 4}" r="3" fill="${COLORS.watcher}"/>`);
    }
    if (zi === zones.length - 1) {
      for (let d = 0; d <= H / 24; d += xstep) out.push(`<text x="${f(px(d * 24))}" y="${top + panel + 16}" text-anchor="middle">${d}</text>`);
      out.push(`<text x="${(L + W - R) / 2}" y="${height - 8}" text-anchor="middle">day (dashed: a demand change; dotted: the event enters the calendar; dots: watcher triggers)</text>`);
    }
  });
  WATCHER_POLICIES.forEach((p, k) => {
    const ly = Tm + 10 + k * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${COLORS[p]}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${p}</text>`);
  });
  out.push(`<text transform="translate(16 ${(Tm + height - B) / 2}) rotate(-90)" text-anchor="middle">price (seed 1)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
