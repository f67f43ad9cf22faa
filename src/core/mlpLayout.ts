/**
 * What the WASM network (core/mlp.ts) and its twin share: the spec check, the parameter layout and
 * the seeded initialisation (docs/math.md §9.1). Both implementations take their layout and their
 * initial weights from here, so a seed means the same network in either.
 */
import { RepricerError } from './errors.js';
import { Xoshiro128, splitmix32 } from './random.js';

/** sizes = [in, h1, ..., out]; hidden layers are ReLU, the last layer `output`. */
export interface MlpSpec {
  sizes: number[];
  output: 'tanh' | 'linear';
}

/** Where layer l's weights W (out x in, row-major) and bias b (out) sit in the flat parameter vector. */
export interface LayerLayout {
  nIn: number;
  nOut: number;
  /** offset (in floats) of W[0][0] */
  w: number;
  /** offset (in floats) of b[0] */
  b: number;
  /** activation code of the layer: 1 ReLU (hidden), 0 linear, 2 tanh (last layer) */
  act: number;
}

export const ACT_LINEAR = 0;
export const ACT_RELU = 1;
export const ACT_TANH = 2;

/** Widest layer the core accepts: keeps every buffer index far inside 32-bit offsets. */
export const MAX_WIDTH = 65536;

/** A checked copy of the spec (the caller's arrays are not kept). */
export function checkMlpSpec(fn: string, spec: MlpSpec): MlpSpec {
  if (spec === null || typeof spec !== 'object') throw new RepricerError('INVALID_ARGUMENT', `${fn}: spec must be an object { sizes, output }, got ${String(spec)}`);
  const { sizes, output } = spec;
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new RepricerError('INVALID_ARGUMENT', `${fn}: spec.sizes must be an array [in, ..., out] of at least 2 layer widths, got ${JSON.stringify(sizes)}`, { field: 'sizes' });
  }
  sizes.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1 || s > MAX_WIDTH) {
      throw new RepricerError('INVALID_ARGUMENT', `${fn}: spec.sizes[${i}] must be an integer in [1, ${MAX_WIDTH}], got ${JSON.stringify(s)}`, { field: `sizes[${i}]` });
    }
  });
  if (output !== 'tanh' && output !== 'linear') {
    throw new RepricerError('INVALID_ARGUMENT', `${fn}: spec.output must be 'tanh' or 'linear', got ${JSON.stringify(output)}`, { field: 'output' });
  }
  return { sizes: [...sizes], output };
}

/** Layer by layer: W row-major [out][in], then b; the activations of §9.1. */
export function mlpLayout(spec: MlpSpec): { layers: LayerLayout[]; paramCount: number } {
  const layers: LayerLayout[] = [];
  let off = 0;
  const last = spec.sizes.length - 2;
  for (let l = 0; l <= last; l++) {
    const nIn = spec.sizes[l]!;
    const nOut = spec.sizes[l + 1]!;
    const act = l < last ? ACT_RELU : spec.output === 'tanh' ? ACT_TANH : ACT_LINEAR;
    layers.push({ nIn, nOut, w: off, b: off + nIn * nOut, act });
    off += nIn * nOut + nOut;
  }
  return { layers, paramCount: off };
}

/**
 * Initial parameters for `seed` (docs/math.md §9.1): every W and b of a layer with fan-in n is
 * uniform on ±1/√n (the default of PyTorch's nn.Linear), drawn in parameter order from xoshiro128**
 * seeded by four splitmix32 words of the 32-bit seed, and rounded to f32.
 */
export function initialParams(spec: MlpSpec, seed: number): Float32Array {
  checkSeed('initialise', seed);
  const { layers, paramCount } = mlpLayout(spec);
  const st = { s: seed | 0 };
  const rng = new Xoshiro128(splitmix32(st), splitmix32(st), splitmix32(st), splitmix32(st));
  const p = new Float32Array(paramCount);
  for (const L of layers) {
    const bound = 1 / Math.sqrt(L.nIn);
    const end = L.b + L.nOut;
    for (let i = L.w; i < end; i++) p[i] = (2 * rng.uniform() - 1) * bound;
  }
  return p;
}

function checkSeed(fn: string, seed: number): void {
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
    throw new RepricerError('INVALID_ARGUMENT', `${fn}: seed must be a 32-bit integer, got ${JSON.stringify(seed)}`, { field: 'seed' });
  }
}

/** batch must be a positive integer and `a` exactly batch x width floats, all finite. */
export function checkBatch(fn: string, name: string, a: Float32Array, batch: number, width: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new RepricerError('INVALID_ARGUMENT', `${fn}: batch must be a positive integer, got ${JSON.stringify(batch)}`, { field: 'batch' });
  if (!(a instanceof Float32Array)) throw new RepricerError('INVALID_ARGUMENT', `${fn}: ${name} must be a Float32Array`, { field: name });
  if (a.length !== batch * width) {
    throw new RepricerError('INVALID_ARGUMENT', `${fn}: ${name} must hold batch x ${width} = ${batch * width} floats (row-major), got ${a.length}`, { field: name });
  }
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) {
      throw new RepricerError('INVALID_ARGUMENT', `${fn}: ${name}[${i}] (row ${Math.floor(i / width)}, column ${i % width}) must be finite, got ${v}`, { field: name, index: i });
    }
  }
}

/** A flat parameter vector of the right length with finite entries. */
export function checkParams(fn: string, p: Float32Array, paramCount: number): void {
  if (!(p instanceof Float32Array) || p.length !== paramCount) {
    throw new RepricerError('INVALID_ARGUMENT', `${fn}: parameters must be a Float32Array of paramCount = ${paramCount} floats, got ${p instanceof Float32Array ? p.length : typeof p}`, { field: 'params' });
  }
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (v - v !== 0) throw new RepricerError('INVALID_ARGUMENT', `${fn}: params[${i}] must be finite, got ${v}`, { field: 'params', index: i });
  }
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Adam's defaults (Kingma & Ba): β1 = 0.9, β2 = 0.999, ε = 1e-8. */
export function checkAdam(lr: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): AdamHyper {
  const bad = (name: string, v: number, want: string): never => {
    throw new RepricerError('INVALID_ARGUMENT', `adamStep: ${name} must be ${want}, got ${JSON.stringify(v)}`, { field: name });
  };
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) bad('lr', lr, 'a finite number > 0');
  if (typeof beta1 !== 'number' || !(beta1 >= 0 && beta1 < 1)) bad('beta1', beta1, 'in [0, 1)');
  if (typeof beta2 !== 'number' || !(beta2 >= 0 && beta2 < 1)) bad('beta2', beta2, 'in [0, 1)');
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) bad('eps', eps, 'a finite number > 0');
  return { lr, beta1, beta2, eps };
}

/**
 * The f32 scalars of Adam step t (docs/math.md §9.3): α = lr, the bias corrections
 * 1/(1-β1^t) and 1/(1-β2^t), computed in f64 and rounded once, so the kernel and the twin start
 * from the same numbers.
 */
export interface AdamScalars {
  lr: number;
  b1: number;
  /** 1 - β1 */
  ob1: number;
  b2: number;
  /** 1 - β2 */
  ob2: number;
  /** 1/(1-β1^t) */
  c1: number;
  /** 1/(1-β2^t) */
  c2: number;
  eps: number;
}

export function adamScalars(h: AdamHyper, t: number): AdamScalars {
  const f = Math.fround;
  return {
    lr: f(h.lr),
    b1: f(h.beta1),
    ob1: f(1 - h.beta1),
    b2: f(h.beta2),
    ob2: f(1 - h.beta2),
    c1: f(1 / (1 - Math.pow(h.beta1, t))),
    c2: f(1 / (1 - Math.pow(h.beta2, t))),
    eps: f(h.eps),
  };
}

export function checkTau(tau: number): number {
  if (typeof tau !== 'number' || !(tau >= 0 && tau <= 1)) throw new RepricerError('INVALID_ARGUMENT', `softUpdateFrom: tau must be in [0, 1], got ${JSON.stringify(tau)}`, { field: 'tau' });
  return tau;
}

/** Source and destination of a copy or soft update must be the same network shape. */
export function checkSameSpec(fn: string, a: MlpSpec, b: MlpSpec): void {
  if (a.output !== b.output || a.sizes.length !== b.sizes.length || a.sizes.some((s, i) => s !== b.sizes[i])) {
    throw new RepricerError('INVALID_ARGUMENT', `${fn}: source network ${JSON.stringify(b)} differs from this one ${JSON.stringify(a)}`, { field: 'src' });
  }
}
