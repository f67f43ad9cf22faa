// TypeScript twin of assembly/market.ts (the parity reference): same algorithm, same operation
// order; arrays instead of pointers. Market-clearing potential under nested-logit demand
// (docs/math.md §2): the potential ER(p), its gradient (supply minus expected demand), the supply
// and demand vectors, and the one-participant stochastic oracle.

let gN = 0;
let gM = 0;
let gL = 0;
let gK = 0;
let gMu = 1.0;
let gOutside = 0;
let gA: Float64Array = new Float64Array(0);
let gW: Float64Array = new Float64Array(0);
let gNest: Int32Array = new Int32Array(0);
let gMuL: Float64Array = new Float64Array(0);
let gC: Float64Array = new Float64Array(0);
let gCap: Float64Array = new Float64Array(0);
let gBeta: Float64Array = new Float64Array(0);
let gWork: Float64Array = new Float64Array(0);

export function marketWorkSize(L: number): number {
  return 3 * L;
}

export function marketSetup(
  n: number, m: number, L: number, K: number, mu: number, outside: number,
  a: Float64Array, w: Float64Array, nest: Int32Array, muL: Float64Array, c: Float64Array, cap: Float64Array, beta: Float64Array,
): void {
  gN = n; gM = m; gL = L; gK = K; gMu = mu; gOutside = outside;
  gA = a; gW = w; gNest = nest; gMuL = muL; gC = c; gCap = cap; gBeta = beta;
  gWork = new Float64Array(marketWorkSize(L));
}

function consumer(j: number, p: Float64Array, out: Float64Array | null, scale: number): number {
  const n = gN;
  const L = gL;
  const row = j * n;
  const mx = 0;
  const sm = L;
  const tl = 2 * L;
  const wk = gWork;
  for (let l = 0; l < L; l++) {
    wk[mx + l] = -Infinity;
    wk[sm + l] = 0.0;
  }
  for (let i = 0; i < n; i++) {
    const l = gNest[i];
    const v = (gA[row + i] - p[i]) / gMuL[l];
    if (v > wk[mx + l]) wk[mx + l] = v;
  }
  for (let i = 0; i < n; i++) {
    const l = gNest[i];
    const v = (gA[row + i] - p[i]) / gMuL[l];
    wk[sm + l] = wk[sm + l] + Math.exp(v - wk[mx + l]);
  }
  let top = gOutside !== 0 ? 0.0 : -Infinity;
  for (let l = 0; l < L; l++) {
    const t = (gMuL[l] / gMu) * (wk[mx + l] + Math.log(wk[sm + l]));
    wk[tl + l] = t;
    if (t > top) top = t;
  }
  let s = gOutside !== 0 ? Math.exp(-top) : 0.0;
  for (let l = 0; l < L; l++) s += Math.exp(wk[tl + l] - top);
  if (out !== null) {
    for (let l = 0; l < L; l++) wk[tl + l] = Math.exp(wk[tl + l] - top) / s / wk[sm + l];
    for (let i = 0; i < n; i++) {
      const l = gNest[i];
      const v = (gA[row + i] - p[i]) / gMuL[l];
      out[i] = out[i] + scale * (wk[tl + l] * Math.exp(v - wk[mx + l]));
    }
  }
  return gMu * (top + Math.log(s));
}

function supplier(k: number, p: Float64Array, out: Float64Array | null, scale: number): number {
  const n = gN;
  const cr = k * n;
  const b = gBeta[k];
  let total = 0.0;
  for (let i = 0; i < n; i++) {
    const v = p[i] - gC[cr + i];
    if (v <= 0.0) continue;
    const xbar = gCap[cr + i];
    let x: number;
    if (v <= b * xbar) {
      total += (v * v) / (2.0 * b);
      x = v / b;
    } else {
      total += v * xbar - (b * xbar * xbar) / 2.0;
      x = xbar;
    }
    if (out !== null) out[i] = out[i] + scale * x;
  }
  return total;
}

export function marketPotential(p: Float64Array, supply: Float64Array, demand: Float64Array, grad: Float64Array): number {
  const n = gN;
  for (let i = 0; i < n; i++) {
    supply[i] = 0.0;
    demand[i] = 0.0;
  }
  let er = 0.0;
  for (let k = 0; k < gK; k++) er += supplier(k, p, supply, 1.0);
  for (let j = 0; j < gM; j++) {
    const wj = gW[j];
    er += wj * consumer(j, p, demand, wj);
  }
  for (let i = 0; i < n; i++) grad[i] = supply[i] - demand[i];
  return er;
}

export function marketOracle(p: Float64Array, q: number, g: Float64Array): void {
  const n = gN;
  const scale = gK + gM;
  for (let i = 0; i < n; i++) g[i] = 0.0;
  if (q < gK) supplier(q, p, g, scale);
  else {
    const j = q - gK;
    consumer(j, p, g, -scale * gW[j]);
  }
}

export function marketOracleSampled(p: Float64Array, q: number, u: number, g: Float64Array, tmp: Float64Array): number {
  const n = gN;
  const scale = gK + gM;
  for (let i = 0; i < n; i++) g[i] = 0.0;
  if (q < gK) {
    supplier(q, p, g, scale);
    return -1;
  }
  const j = q - gK;
  for (let i = 0; i < n; i++) tmp[i] = 0.0;
  consumer(j, p, tmp, 1.0);
  let cum = 0.0;
  for (let i = 0; i < n; i++) {
    cum += tmp[i];
    if (u < cum) {
      g[i] = -scale * gW[j];
      return i;
    }
  }
  if (gOutside === 0) {
    g[n - 1] = -scale * gW[j];
    return n - 1;
  }
  return -1;
}
