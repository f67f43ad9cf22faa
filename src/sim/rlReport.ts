/**
 * Learning curves of trained agents (`repricer rl curves`, docs/rl.md): for each group of agent
 * files (same algorithm and reward, different seeds) the mean and the standard deviation over the
 * seeds of the episode return, episode by episode, after a trailing moving average of `window`
 * episodes within each run (the return of one exploring episode is noisy). Written as a CSV and
 * as an SVG with the axis and label helpers of the regret plot (./report.ts).
 */
import { esc, niceStep, num } from './report.js';

export interface CurveGroup {
  label: string;
  /** one array of episode returns per seed (equal lengths) */
  runs: number[][];
}

export interface Curve {
  label: string;
  seeds: number;
  mean: number[];
  sd: number[];
}

/** Trailing moving average: entry t is the mean of xs[max(0, t − w + 1) … t]. */
export function movingAverage(xs: readonly number[], w: number): number[] {
  const out: number[] = [];
  let s = 0;
  for (let t = 0; t < xs.length; t++) {
    s += xs[t];
    if (t >= w) s -= xs[t - w];
    out.push(s / Math.min(t + 1, w));
  }
  return out;
}

export function learningCurves(groups: CurveGroup[], window: number): Curve[] {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`learningCurves: window must be an integer >= 1, got ${window}`);
  return groups.map((g) => {
    const T = g.runs[0]?.length ?? 0;
    for (const r of g.runs) if (r.length !== T) throw new RangeError(`learningCurves: the runs of ${g.label} have different episode counts (${T} and ${r.length})`);
    const smooth = g.runs.map((r) => movingAverage(r, window));
    const n = smooth.length;
    const mean: number[] = [];
    const sd: number[] = [];
    for (let t = 0; t < T; t++) {
      const m = smooth.reduce((a, r) => a + r[t], 0) / n;
      mean.push(m);
      sd.push(n > 1 ? Math.sqrt(smooth.reduce((a, r) => a + (r[t] - m) ** 2, 0) / (n - 1)) : 0);
    }
    return { label: g.label, seeds: n, mean, sd };
  });
}

export function curvesCsv(curves: Curve[]): string {
  const lines = ['group,seeds,episode,mean_return,sd_return'];
  for (const c of curves) c.mean.forEach((m, t) => lines.push(`${c.label},${c.seeds},${t},${num(m)},${num(c.sd[t])}`));
  return lines.join('\n') + '\n';
}

const PALETTE = ['#9467bd', '#ff7f0e', '#1f77b4', '#2ca02c', '#d62728', '#8c564b'];

/** Mean ± 1 sd bands per group against the episode. */
export function curvesSvg(curves: Curve[], title: string): string {
  const W = 760;
  const H = 440;
  const L = 70;
  const R = 200;
  const Tm = 40;
  const B = 50;
  const T = Math.max(1, ...curves.map((c) => c.mean.length));
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of curves) c.mean.forEach((m, t) => ((lo = Math.min(lo, m - c.sd[t])), (hi = Math.max(hi, m + c.sd[t]))));
  if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
  const ystep = niceStep(hi - lo, 5);
  lo = Math.floor(lo / ystep) * ystep;
  hi = Math.ceil(hi / ystep) * ystep;
  const px = (t: number) => L + ((W - L - R) * t) / Math.max(1, T - 1);
  const py = (v: number) => Tm + (H - Tm - B) * (1 - (v - lo) / (hi - lo));
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (let v = lo; v <= hi + 1e-9 * ystep; v += ystep) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${f(py(v) + 4)}" text-anchor="end">${num(Number(v.toPrecision(6)))}</text>`);
  }
  const xstep = niceStep(T, 6);
  for (let t = 0; t < T; t += xstep) out.push(`<text x="${f(px(t))}" y="${H - B + 18}" text-anchor="middle">${t + 1}</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
  out.push(`<line x1="${L}" x2="${L}" y1="${Tm}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">training episode</text>`);
  out.push(`<text transform="translate(16 ${(Tm + H - B) / 2}) rotate(-90)" text-anchor="middle">episode return (mean ± 1 sd over seeds)</text>`);
  curves.forEach((c, n) => {
    const col = PALETTE[n % PALETTE.length];
    const up = c.mean.map((m, t) => `${f(px(t))},${f(py(m + c.sd[t]))}`);
    const down = c.mean.map((m, t) => `${f(px(t))},${f(py(m - c.sd[t]))}`).reverse();
    out.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${col}" fill-opacity="0.15" stroke="none"/>`);
    out.push(`<polyline points="${c.mean.map((m, t) => `${f(px(t))},${f(py(m))}`).join(' ')}" fill="none" stroke="${col}" stroke-width="2"/>`);
    const ly = Tm + 10 + n * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${col}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${esc(`${c.label} (${c.seeds} seeds)`)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
