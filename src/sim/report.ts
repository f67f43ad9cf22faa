/**
 * Outputs of the regret experiment: the summary (final regret per policy, mean, sd and standard
 * error over instances, the paired tsmt-vs-baseline difference), regret.csv and regret.svg.
 */
import type { RfqConfig } from './config.js';
import type { RfqResult } from './episodes.js';

export function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

/** regret.csv: t, then `<policy>_mean,<policy>_sd` of the cumulative regret. */
export function regretCsv(r: RfqResult): string {
  const pol = r.config.policies;
  const lines = ['t,' + pol.map((p) => `${p}_mean,${p}_sd`).join(',')];
  for (let t = 0; t < r.config.horizon; t++) lines.push(`${t + 1},` + pol.map((p) => `${num(r.mean[p][t])},${num(r.sd[p][t])}`).join(','));
  return lines.join('\n') + '\n';
}

export interface RfqSummary {
  format: 'repricer.simulate-rfq/1';
  config: RfqConfig;
  finalRegret: Record<string, { mean: number; sd: number; stdError: number; perInstance: number[] }>;
  totalReward: Record<string, { mean: number; perInstance: number[] }>;
  /** Best non-clairvoyant policy by mean final regret. */
  best: string | null;
  /** tsmt's final regret / the better of pooled and individual (when all three ran). */
  tsmtVsBetterBaseline: number | null;
  /** Paired over instances: tsmt - better baseline (by mean), mean and standard error. */
  tsmtMinusBetterBaseline: { baseline: string; mean: number; stdError: number } | null;
  /** tsmt's c_λ choices per refit episode (counts over instances). */
  lambdaChoices: Array<Record<string, number>>;
}

export function summarize(r: RfqResult): RfqSummary {
  const T = r.config.horizon;
  const K = r.config.instances;
  const finalRegret: RfqSummary['finalRegret'] = {};
  const totalReward: RfqSummary['totalReward'] = {};
  for (const p of r.config.policies) {
    const per: number[] = [];
    for (let k = 0; k < K; k++) per.push(Number(r.cumulative[p][k * T + T - 1].toPrecision(12)));
    const sd = r.sd[p][T - 1];
    finalRegret[p] = { mean: Number(r.mean[p][T - 1].toPrecision(12)), sd: Number(sd.toPrecision(12)), stdError: Number((sd / Math.sqrt(K)).toPrecision(12)), perInstance: per };
    const tr = r.totalReward[p].map((v) => Number(v.toPrecision(12)));
    totalReward[p] = { mean: Number((tr.reduce((a, b) => a + b, 0) / K).toPrecision(12)), perInstance: tr };
  }
  const learners = r.config.policies.filter((p) => p !== 'clairvoyant');
  let best: string | null = null;
  for (const p of learners) if (best === null || finalRegret[p].mean < finalRegret[best].mean) best = p;
  let ratio: number | null = null;
  if (finalRegret.tsmt && finalRegret.pooled && finalRegret.individual) {
    ratio = Number((finalRegret.tsmt.mean / Math.min(finalRegret.pooled.mean, finalRegret.individual.mean)).toPrecision(6));
  }
  let paired: RfqSummary['tsmtMinusBetterBaseline'] = null;
  if (finalRegret.tsmt && finalRegret.pooled && finalRegret.individual) {
    const base = finalRegret.pooled.mean <= finalRegret.individual.mean ? 'pooled' : 'individual';
    const diff = finalRegret.tsmt.perInstance.map((v, k) => v - finalRegret[base].perInstance[k]);
    const m = diff.reduce((a, b) => a + b, 0) / K;
    const sd = K > 1 ? Math.sqrt(diff.reduce((a, b) => a + (b - m) ** 2, 0) / (K - 1)) : 0;
    paired = { baseline: base, mean: Number(m.toPrecision(8)), stdError: Number((sd / Math.sqrt(K)).toPrecision(8)) };
  }
  return { format: 'repricer.simulate-rfq/1', config: r.config, finalRegret, totalReward, best, tsmtVsBetterBaseline: ratio, tsmtMinusBetterBaseline: paired, lambdaChoices: r.lambdaChoices };
}

const COLORS: Record<string, string> = { tsmt: '#d62728', pooled: '#1f77b4', individual: '#2ca02c', clairvoyant: '#7f7f7f' };

export function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** regret.svg: mean ± 1 sd of the cumulative regret per policy (hand-written SVG). */
export function regretSvg(r: RfqResult, title?: string): string {
  const W = 720;
  const H = 440;
  const L = 70;
  const R = 150;
  const Tm = 40;
  const B = 50;
  const T = r.config.horizon;
  const pol = r.config.policies;
  let ymax = 0;
  for (const p of pol) for (let t = 0; t < T; t++) ymax = Math.max(ymax, r.mean[p][t] + r.sd[p][t]);
  if (!(ymax > 0)) ymax = 1;
  const ystep = niceStep(ymax, 5);
  ymax = Math.ceil(ymax / ystep) * ystep;
  const xstep = niceStep(T, 6);
  const px = (t: number) => L + ((W - L - R) * t) / T;
  const py = (v: number) => Tm + (H - Tm - B) * (1 - v / ymax);
  const f = (v: number) => v.toFixed(1);
  // at most ~400 points per path
  const stride = Math.max(1, Math.floor(T / 400));
  const idx: number[] = [];
  for (let t = 0; t < T; t += stride) idx.push(t);
  if (idx[idx.length - 1] !== T - 1) idx.push(T - 1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const cfg = r.config;
  const law = cfg.arrivals === 'uniform' ? 'uniform arrivals' : `${cfg.arrivals} arrivals (alpha=${cfg.alpha})`;
  const head = title ?? `M=${cfg.products}, d=${cfg.dim}, delta=${cfg.delta}, ${law}, ${cfg.instances} instances`;
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(head)}</text>`);
  for (let v = 0; v <= ymax + 1e-12; v += ystep) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${f(py(v) + 4)}" text-anchor="end">${num(Number(v.toPrecision(6)))}</text>`);
  }
  for (let t = 0; t <= T; t += xstep) {
    out.push(`<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${H - B}" y2="${H - B + 5}" stroke="black"/>`);
    out.push(`<text x="${f(px(t))}" y="${H - B + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
  out.push(`<line x1="${L}" x2="${L}" y1="${Tm}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">round t</text>`);
  out.push(`<text transform="translate(16 ${(Tm + H - B) / 2}) rotate(-90)" text-anchor="middle">cumulative regret (mean ± 1 sd)</text>`);
  pol.forEach((p, n) => {
    const col = COLORS[p] ?? '#000000';
    const m = r.mean[p];
    const s = r.sd[p];
    const up = idx.map((t) => `${f(px(t + 1))},${f(py(m[t] + s[t]))}`);
    const lo = idx.map((t) => `${f(px(t + 1))},${f(py(Math.max(0, m[t] - s[t])))}`).reverse();
    out.push(`<polygon points="${[...up, ...lo].join(' ')}" fill="${col}" fill-opacity="0.15" stroke="none"/>`);
    out.push(`<polyline points="${idx.map((t) => `${f(px(t + 1))},${f(py(m[t]))}`).join(' ')}" fill="none" stroke="${col}" stroke-width="2"/>`);
    const ly = Tm + 10 + n * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${col}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${esc(p)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
