/**
 * Outputs of `repricer simulate retail` (docs/retail.md): retail.csv (one row per policy and
 * episode), summary.json (each metric's mean and 95 % confidence interval per policy, the mean
 * price and stock by day), retail.svg (mean price and mean stock by day per policy) and the small
 * table printed on stdout. Numbers are written with 10 significant digits, so the same results give
 * the same bytes.
 */
import { SUMMARY_METRICS, summarizeRetail, type RetailResult, type Estimate, type SummaryMetric } from './retail.js';

function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

const round = (v: number): number | null => (Number.isFinite(v) ? Number(v.toPrecision(10)) : null);

export const RETAIL_CSV_COLUMNS = [
  'policy', 'episode', 'revenue', 'cost_of_goods', 'return_cost', 'holding', 'write_off', 'profit', 'margin', 'units_sold',
  'sell_through', 'returned', 'return_rate', 'price_volatility', 'regret', 'first_price', 'last_price', 'stockout_day',
] as const;

/** retail.csv: one row per (policy, episode); empty cells for undefined values (no DP, no stock-out). */
export function retailCsv(r: RetailResult): string {
  const lines = [RETAIL_CSV_COLUMNS.join(',')];
  for (const [name, eps] of Object.entries(r.runs)) {
    eps.forEach((e, k) => {
      const cells = [
        name, String(k), num(e.revenue), num(e.costOfGoods), num(e.returnCost), num(e.holding), num(e.writeOff), num(e.profit), num(e.margin),
        String(e.unitsSold), num(e.sellThrough), num(e.returned), num(e.returnRate), num(e.priceVolatility), num(e.regret),
        num(e.prices[0]), num(e.prices[e.prices.length - 1]), e.stockoutDay === null ? '' : String(e.stockoutDay),
      ];
      lines.push(cells.join(','));
    });
  }
  return lines.join('\n') + '\n';
}

type JsonEstimate = { mean: number | null; ci95: [number | null, number | null]; sd: number | null; n: number };
const jsonEstimate = (e: Estimate): JsonEstimate => ({ mean: round(e.mean), ci95: [round(e.ci95[0]), round(e.ci95[1])], sd: round(e.sd), n: e.n });

export interface RetailSummary {
  format: 'repricer.simulate-retail/1';
  config: RetailResult['config'];
  optimumPrice: number | null;
  dpValue: number | null;
  policies: Record<string, Record<SummaryMetric, JsonEstimate> & { stockouts: number; meanPrice: (number | null)[]; meanStock: (number | null)[] }>;
}

export function retailSummary(r: RetailResult): RetailSummary {
  const s = summarizeRetail(r);
  const policies: RetailSummary['policies'] = {};
  for (const [name, v] of Object.entries(s)) {
    const est = {} as Record<SummaryMetric, JsonEstimate>;
    for (const k of SUMMARY_METRICS) est[k] = jsonEstimate(v[k]);
    policies[name] = { ...est, stockouts: v.stockouts, meanPrice: v.meanPrice.map(round), meanStock: v.meanStock.map(round) };
  }
  return { format: 'repricer.simulate-retail/1', config: r.config, optimumPrice: round(r.optimumPrice), dpValue: r.dpValue === null ? null : round(r.dpValue), policies };
}

/** The stdout table: mean [95 % CI] of the main metrics per policy. */
export function retailTable(sum: RetailSummary): string {
  const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)} %`);
  const money = (v: number | null) => (v === null ? '-' : v.toFixed(0));
  const ci = (e: JsonEstimate, f: (v: number | null) => string) => `${f(e.mean)} [${f(e.ci95[0])}, ${f(e.ci95[1])}]`;
  const head = ['policy', 'margin', 'profit', 'revenue', 'sell-through', 'returns', 'price vol', 'regret vs DP'];
  const rows = Object.entries(sum.policies).map(([name, p]) => [
    name, ci(p.margin, pct), ci(p.profit, money), money(p.revenue.mean), pct(p.sellThrough.mean), pct(p.returnRate.mean),
    p.priceVolatility.mean === null ? '-' : p.priceVolatility.mean.toFixed(4), ci(p.regret, money),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

const COLORS: Record<string, string> = { 'cost-plus': '#7f7f7f', optimizer: '#1f77b4', 'optimizer-skew': '#d62728', 'dp-optimum': '#2ca02c', td3: '#9467bd', ddpg: '#ff7f0e' };

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** One panel: a line per policy over days 1..T, y from 0. */
function panel(out: string[], x0: number, w: number, y0: number, h: number, title: string, series: [string, number[]][]): void {
  const T = series[0]?.[1].length ?? 1;
  let ymax = 0;
  for (const [, ys] of series) for (const y of ys) if (Number.isFinite(y)) ymax = Math.max(ymax, y);
  if (!(ymax > 0)) ymax = 1;
  const ystep = niceStep(ymax, 5);
  ymax = Math.ceil(ymax / ystep) * ystep;
  const f = (v: number) => v.toFixed(1);
  const px = (t: number) => x0 + (w * (t - 1)) / Math.max(1, T - 1);
  const py = (v: number) => y0 + h * (1 - v / ymax);
  out.push(`<text x="${f(x0 + w / 2)}" y="${f(y0 - 10)}" text-anchor="middle" font-size="13">${title}</text>`);
  for (let v = 0; v <= ymax + 1e-9; v += ystep) {
    out.push(`<line x1="${f(x0)}" x2="${f(x0 + w)}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f(x0 - 6)}" y="${f(py(v) + 4)}" text-anchor="end">${num(Number(v.toPrecision(6)))}</text>`);
  }
  const xstep = Math.max(1, niceStep(T, 6));
  for (let t = 1; t <= T; t += t === 1 && xstep > 1 ? xstep - 1 : xstep) {
    out.push(`<text x="${f(px(t))}" y="${f(y0 + h + 18)}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${f(x0)}" x2="${f(x0 + w)}" y1="${f(y0 + h)}" y2="${f(y0 + h)}" stroke="black"/>`);
  out.push(`<line x1="${f(x0)}" x2="${f(x0)}" y1="${f(y0)}" y2="${f(y0 + h)}" stroke="black"/>`);
  out.push(`<text x="${f(x0 + w / 2)}" y="${f(y0 + h + 36)}" text-anchor="middle">day</text>`);
  for (const [name, ys] of series) {
    const pts = ys.map((y, t) => `${f(px(t + 1))},${f(py(y))}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${COLORS[name] ?? '#000000'}" stroke-width="2"/>`);
  }
}

/** retail.svg: mean price by day (left) and mean stock at the end of each day (right), per policy. */
export function retailSvg(sum: RetailSummary): string {
  const W = 900;
  const H = 420;
  const names = Object.keys(sum.policies);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const env = sum.config.env;
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Retail season: ${env.days} days, stock ${env.initial_stock}, elasticity ${env.elasticity}, ${sum.config.episodes} episodes (means)</text>`);
  const val = (ys: (number | null)[]) => ys.map((y) => (y === null ? NaN : y));
  panel(out, 60, 300, 70, 270, 'price', names.map((n) => [n, val(sum.policies[n].meanPrice)]));
  panel(out, 430, 300, 70, 270, 'stock at the end of the day', names.map((n) => [n, val(sum.policies[n].meanStock)]));
  names.forEach((n, i) => {
    const y = 80 + i * 22;
    out.push(`<line x1="${760}" x2="${785}" y1="${y}" y2="${y}" stroke="${COLORS[n] ?? '#000000'}" stroke-width="2"/>`);
    out.push(`<text x="${791}" y="${y + 4}">${n}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
