/**
 * `repricer bench`, fit: the pooled censored MLE (`repricer fit --strategy pooled`, Gaussian
 * noise, scale estimated) end to end from a generated observations CSV to the model file, and the
 * Python peer (bench/peers/fit_pooled.py: numpy read, scipy L-BFGS-B with the analytic gradient)
 * on the same file; their coefficients, scale and log-likelihood are compared.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fitObservationsFile } from '../../model/fit.js';
import { saveModel, type Model } from '../../model/format.js';
import { Rng } from '../../sim/random.js';
import type { Agreement, BenchRow, PeerOutcome } from './report.js';
import { bestOf, type Sizes } from './sizes.js';
import { readJson, runPeer, type PythonInfo } from './peers.js';

/** Relative agreement required of the peer's coefficients, scale and log-likelihood. */
export const FIT_TOLERANCE = 1e-6;

/**
 * Observations: M products (theta_i = theta_0 + 0.2 x a random unit vector), features N(0, 1/d),
 * our price around the mean competitor quote, the competitor's quote revealed when we win.
 * Numbers are written in shortest round-trip form, so every reader parses the same doubles.
 */
export function writeObservations(file: string, rows: number, features: number, products: number, seed = 7): void {
  const rng = new Rng(seed);
  const D = features + 1;
  const sigma = 0.5;
  const theta0 = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 20 : 0.5 * rng.normal()));
  const thetas = new Float64Array(products * D);
  for (let i = 0; i < products; i++) {
    const g = Array.from({ length: D }, () => rng.normal());
    const s = Math.hypot(...g);
    for (let j = 0; j < D; j++) thetas[i * D + j] = theta0[j] + (0.2 * g[j]) / s;
  }
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, ['product_id', ...Array.from({ length: features }, (_, j) => `x${j + 1}`), 'price', 'won', 'competitor_price'].join(',') + '\n');
    let buf: string[] = [];
    const fields: string[] = new Array<string>(features + 4);
    for (let r = 0; r < rows; r++) {
      const i = Math.min(products - 1, Math.floor(products * rng.uniform() ** 2)); // more rows for the first products
      fields[0] = `P${i}`;
      let u = thetas[i * D];
      for (let j = 1; j < D; j++) {
        const v = rng.normal() / Math.sqrt(features);
        fields[j] = String(v);
        u += v * thetas[i * D + j];
      }
      const y = u + sigma * rng.normal();
      const p = u + sigma * (rng.uniform() - 0.3);
      const won = p <= y;
      fields[D] = String(p);
      fields[D + 1] = won ? '1' : '0';
      fields[D + 2] = won ? String(y) : '';
      buf.push(fields.join(','));
      if (buf.length === 10_000) {
        writeSync(fd, buf.join('\n') + '\n');
        buf = [];
      }
    }
    if (buf.length) writeSync(fd, buf.join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
}

interface PeerFit {
  rows: number;
  theta: number[];
  sigma: number;
  logLikelihood: number;
  iterations: number;
  message: string;
  seconds: { total: number };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  return a.length === b.length ? num / Math.max(den, 1e-300) : Infinity;
}

/** Compare the peer's pooled fit with the model repricer wrote. */
export function compareFit(model: Model, peer: PeerFit): Agreement {
  const dTheta = maxRel(model.common.theta, peer.theta);
  const dSigma = Math.abs(model.noise.scale - peer.sigma) / model.noise.scale;
  const dLl = Math.abs(model.fit.logLikelihood - peer.logLikelihood) / Math.abs(model.fit.logLikelihood);
  const value = Math.max(dTheta, dSigma, dLl);
  return {
    metric: 'max rel. diff of theta, sigma, log-lik',
    value,
    tolerance: FIT_TOLERANCE,
    ok: value <= FIT_TOLERANCE,
    detail: `theta ${dTheta.toExponential(2)} (max |diff| / max |theta|), sigma ${dSigma.toExponential(2)}, log-likelihood ${dLl.toExponential(2)} (repricer ${model.fit.logLikelihood}, python ${peer.logLikelihood}; python: ${peer.iterations} L-BFGS-B iterations, ${peer.message})`,
  };
}

export async function runFit(s: Sizes, dir: string, py: PythonInfo): Promise<BenchRow[]> {
  const obs = join(dir, 'observations.csv');
  writeObservations(obs, s.fitRows, s.fitFeatures, s.fitProducts);
  const modelFile = join(dir, 'pooled-model.json');
  const t = await bestOf(s.reps, async () => {
    const model = await fitObservationsFile(obs, { strategy: 'pooled', family: 'gaussian' });
    saveModel(modelFile, model);
    return model;
  });
  const model = t.last;
  const row: BenchRow = {
    case: 'pooled censored MLE, file -> model',
    size: `${s.fitRows.toLocaleString('en-US')} rows, ${s.fitFeatures} features + intercept`,
    value: t.best,
    unit: 's',
    runs: t.runs,
    note: `repricer: read, default-radius fit, pooled fit with standard errors, model written; converged ${model.fit.converged}, log-likelihood ${model.fit.logLikelihood.toFixed(6)}, sigma ${model.noise.scale.toPrecision(6)}`,
  };
  const peer: PeerOutcome = { script: 'fit_pooled.py', ran: false };
  if (!py.available || !py.numpyScipy) peer.reason = py.reason ?? 'numpy/scipy absent';
  else {
    const out = join(dir, 'peer-fit.json');
    const runs: number[] = [];
    let res!: PeerFit;
    for (let i = 0; i < s.reps; i++) {
      runPeer(py.executable, 'fit_pooled.py', [obs, out]);
      res = readJson<PeerFit>(out);
      runs.push(res.seconds.total);
    }
    peer.ran = true;
    peer.seconds = Math.min(...runs);
    peer.ratio = peer.seconds / t.best;
    peer.agreement = compareFit(model, res);
    row.note += `; python: ${peer.agreement.detail ?? ''}`;
  }
  row.peer = peer;
  return [row];
}
