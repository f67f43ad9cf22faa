/**
 * Outputs of the marketplace experiment: marketplace.csv, summary.json, marketplace.svg (gap vs
 * participant observations, log-log, one line per method with its min–max band over seeds) and
 * the stdout table (observations each method's mean gap needs to reach a few accuracies).
 */
import type { MarketMethod } from '../market/solvers.js';
import { observationsToReach, type MarketplaceResult } from './marketplace.js';

/** The accuracies (absolute gaps in ER) of the summary's and the table's "observations to reach". */
export const TARGET_GAPS = [10, 1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6] as const;

function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

/** marketplace.csv: method,steps,observations,mean_gap,min_gap,max_gap (min/max over seeds). */
export function marketplaceCsv(r: MarketplaceResult): string {
  const lines = ['method,steps,observations,mean_gap,min_gap,max_gap'];
  for (const x of r.rows) lines.push(`${x.method},${x.steps},${x.observations},${num(x.meanGap)},${num(x.minGap)},${num(x.maxGap)}`);
  return lines.join('\n') + '\n';
}

export interface MarketplaceSummary {
  format: 'repricer.simulate-marketplace/1';
  market: string;
  config: MarketplaceResult['config'];
  participants: number;
  observationsPerStep: Record<string, number>;
  reference: MarketplaceResult['reference'];
  clippedGaps: MarketplaceResult['clipped'];
  /** per method: the last checkpoint's gap (mean, min, max) and the observations to reach each target */
  methods: Record<string, { finalObservations: number; finalMeanGap: number; finalMinGap: number; finalMaxGap: number; observationsToReach: Record<string, number | null> }>;
}

export function marketplaceSummary(r: MarketplaceResult, market: string): MarketplaceSummary {
  const methods: MarketplaceSummary['methods'] = {};
  const per: Record<string, number> = {};
  for (const m of r.config.methods) {
    const rows = r.rows.filter((x) => x.method === m);
    const last = rows[rows.length - 1];
    per[m] = last.observations / last.steps;
    methods[m] = {
      finalObservations: last.observations,
      finalMeanGap: Number(last.meanGap.toPrecision(10)),
      finalMinGap: Number(last.minGap.toPrecision(10)),
      finalMaxGap: Number(last.maxGap.toPrecision(10)),
      observationsToReach: Object.fromEntries(TARGET_GAPS.map((e) => [String(e), observationsToReach(r.rows, m, e)])),
    };
  }
  return {
    format: 'repricer.simulate-marketplace/1',
    market,
    config: r.config,
    participants: r.participants,
    observationsPerStep: per,
    reference: { value: Number(r.reference.value.toPrecision(15)), residual: Number(r.reference.residual.toPrecision(6)), steps: r.reference.steps },
    clippedGaps: { count: r.clipped.count, most: Number(r.clipped.most.toPrecision(6)) },
    methods,
  };
}

/** The stdout table: observations to reach each target gap, and the final mean gap [min, max]. */
export function marketplaceTable(s: MarketplaceSummary): string {
  const head = ['method', ...TARGET_GAPS.map((e) => `gap<=${e}`), 'final obs', 'final gap (mean [min, max])'];
  const rows = Object.entries(s.methods).map(([m, v]) => [
    m,
    ...TARGET_GAPS.map((e) => (v.observationsToReach[String(e)] === null ? '-' : String(v.observationsToReach[String(e)]))),
    String(v.finalObservations),
    `${v.finalMeanGap.toExponential(2)} [${v.finalMinGap.toExponential(2)}, ${v.finalMaxGap.toExponential(2)}]`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

const COLORS: Record<MarketMethod, string> = { sgd: '#1f77b4', adagrad: '#2ca02c', smd: '#9467bd', gradient: '#d62728', accelerated: '#ff7f0e' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** marketplace.svg: mean gap vs observations on log-log axes, the min–max band shaded; gaps of 0 are not drawn. */
export function marketplaceSvg(r: MarketplaceResult, title: string): string {
  const W = 760;
  const H = 460;
  const L = 80;
  const R = 140;
  const Tm = 40;
  const B = 50;
  const pos = r.rows.filter((x) => x.meanGap > 0);
  const lg = (v: number) => Math.log10(v);
  let xmax = 1;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const x of r.rows) xmax = Math.max(xmax, x.observations);
  for (const x of pos) {
    ymin = Math.min(ymin, x.minGap > 0 ? x.minGap : x.meanGap);
    ymax = Math.max(ymax, x.maxGap);
  }
  if (!Number.isFinite(ymin)) {
    ymin = 1e-12;
    ymax = 1;
  }
  const x1 = Math.ceil(lg(xmax));
  const y0 = Math.floor(lg(ymin));
  const y1 = Math.max(y0 + 1, Math.ceil(lg(ymax)));
  const px = (v: number) => L + ((W - L - R) * lg(v)) / Math.max(1, x1);
  const py = (v: number) => Tm + ((H - Tm - B) * (y1 - lg(v))) / (y1 - y0);
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  const ystride = Math.max(1, Math.ceil((y1 - y0) / 8));
  for (let e = y0; e <= y1; e += ystride) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(py(10 ** e))}" y2="${f(py(10 ** e))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${f(py(10 ** e) + 4)}" text-anchor="end">1e${e}</text>`);
  }
  for (let e = 0; e <= x1; e++) {
    out.push(`<line x1="${f(px(10 ** e))}" x2="${f(px(10 ** e))}" y1="${Tm}" y2="${H - B + 5}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f(px(10 ** e))}" y="${H - B + 18}" text-anchor="middle">1e${e}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
  out.push(`<line x1="${L}" x2="${L}" y1="${Tm}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">participant observations</text>`);
  out.push(`<text transform="translate(16 ${(Tm + H - B) / 2}) rotate(-90)" text-anchor="middle">ER(p) − ER* (mean, min–max over seeds)</text>`);
  const lo = 10 ** y0;
  r.config.methods.forEach((m, k) => {
    const col = COLORS[m];
    const rows = pos.filter((x) => x.method === m);
    if (rows.length > 1 && rows.some((x) => x.maxGap > x.minGap)) {
      const up = rows.map((x) => `${f(px(x.observations))},${f(py(x.maxGap))}`);
      const dn = rows.map((x) => `${f(px(x.observations))},${f(py(Math.max(lo, x.minGap)))}`).reverse();
      out.push(`<polygon points="${[...up, ...dn].join(' ')}" fill="${col}" fill-opacity="0.15" stroke="none"/>`);
    }
    if (rows.length > 0) out.push(`<polyline points="${rows.map((x) => `${f(px(x.observations))},${f(py(x.meanGap))}`).join(' ')}" fill="none" stroke="${col}" stroke-width="2"/>`);
    const ly = Tm + 10 + k * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${col}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${esc(m)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
