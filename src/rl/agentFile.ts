/**
 * The agent file `repricer.agent/1` (docs/formats.md, "Agent file"): a trained pricing policy —
 * the actor network's layer sizes and its parameters as base64 little-endian f32 — with the state
 * features it reads, the guardrails its actions are mapped into, the environment it was trained on
 * (its settings and their hash) and the training settings and per-episode returns. Loading
 * validates it against a JSON schema (Ajv) and then the parts a schema cannot see (the parameter
 * count against the sizes, every parameter finite, the hash against the settings); every error is
 * INPUT_UNREADABLE naming the file and the field. Saving validates, then writes through a temporary
 * file. The file has no timestamp: the same training run gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../core/schemaErrors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { RepricerError, readFailure } from '../core/errors.js';

export const AGENT_FORMAT = 'repricer.agent/1';
export const AGENT_ALGOS = ['td3', 'ddpg'] as const;
export type AgentAlgo = (typeof AGENT_ALGOS)[number];
export const AGENT_REWARDS = ['blend', 'profit'] as const;
export type AgentReward = (typeof AGENT_REWARDS)[number];

/** The training settings recorded in the file (docs/rl.md, "Training"). */
export interface AgentTraining {
  seed: number;
  episodes: number;
  /** environment steps (days) played */
  steps: number;
  /** critic gradient steps taken */
  updates: number;
  reward: AgentReward;
  gamma: number;
  tau: number;
  actorLr: number;
  criticLr: number;
  batchSize: number;
  bufferSize: number;
  explorationNoise: number;
  policyNoise: number;
  noiseClip: number;
  policyDelay: number;
  twinCritics: boolean;
  /** the critic's layer sizes (state + action in, one value out) */
  criticSizes: number[];
  /** the undiscounted return (sum of rewards) of every training episode, in order */
  episodeReturns: number[];
}

export interface AgentFile {
  format: typeof AGENT_FORMAT;
  algo: AgentAlgo;
  actor: { sizes: number[]; output: 'tanh'; params: string };
  /** names of the state features, in the actor's input order */
  state: { features: string[] };
  guardrails: { floorOverCost: number; maxStepPct: number; ceilingOverP0: number };
  env: { hash: string; config: Record<string, unknown> };
  training: AgentTraining;
}

const pos = { type: 'number', exclusiveMinimum: 0 } as const;
const count = { type: 'integer', minimum: 0 } as const;
const sizes = { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2 } as const;

export const agentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'algo', 'actor', 'state', 'guardrails', 'env', 'training'],
  properties: {
    format: { const: AGENT_FORMAT },
    algo: { enum: [...AGENT_ALGOS] },
    actor: {
      type: 'object',
      additionalProperties: false,
      required: ['sizes', 'output', 'params'],
      properties: { sizes, output: { const: 'tanh' }, params: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' } },
    },
    state: { type: 'object', additionalProperties: false, required: ['features'], properties: { features: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true } } },
    guardrails: {
      type: 'object',
      additionalProperties: false,
      required: ['floorOverCost', 'maxStepPct', 'ceilingOverP0'],
      properties: { floorOverCost: pos, maxStepPct: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 }, ceilingOverP0: pos },
    },
    env: { type: 'object', additionalProperties: false, required: ['hash', 'config'], properties: { hash: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' }, config: { type: 'object' } } },
    training: {
      type: 'object',
      additionalProperties: false,
      required: ['seed', 'episodes', 'steps', 'updates', 'reward', 'gamma', 'tau', 'actorLr', 'criticLr', 'batchSize', 'bufferSize', 'explorationNoise', 'policyNoise', 'noiseClip', 'policyDelay', 'twinCritics', 'criticSizes', 'episodeReturns'],
      properties: {
        seed: count,
        episodes: count,
        steps: count,
        updates: count,
        reward: { enum: [...AGENT_REWARDS] },
        gamma: { type: 'number', minimum: 0, maximum: 1 },
        tau: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        actorLr: pos,
        criticLr: pos,
        batchSize: { type: 'integer', minimum: 1 },
        bufferSize: { type: 'integer', minimum: 1 },
        explorationNoise: { type: 'number', minimum: 0 },
        policyNoise: { type: 'number', minimum: 0 },
        noiseClip: { type: 'number', minimum: 0 },
        policyDelay: { type: 'integer', minimum: 1 },
        twinCritics: { type: 'boolean' },
        criticSizes: sizes,
        episodeReturns: { type: 'array', items: { type: 'number' } },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(agentSchema);

/** Parameters of a dense network with these layer sizes: Σ (in·out + out). */
export function denseParamCount(layerSizes: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < layerSizes.length; i++) n += layerSizes[i - 1] * layerSizes[i] + layerSizes[i];
  return n;
}

/** sha256 of the settings as JSON with keys sorted at every level ("sha256:<hex>"). */
export function configHash(config: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
    return v;
  };
  return 'sha256:' + createHash('sha256').update(JSON.stringify(canon(config))).digest('hex');
}

/** f32 parameters as base64 of their little-endian bytes. */
export function encodeParams(p: Float32Array): string {
  const b = Buffer.alloc(p.length * 4);
  for (let i = 0; i < p.length; i++) b.writeFloatLE(p[i], i * 4);
  return b.toString('base64');
}

export function decodeParams(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  if (b.length % 4 !== 0) throw new RangeError(`decodeParams: ${b.length} bytes is not a whole number of f32 values`);
  const p = new Float32Array(b.length / 4);
  for (let i = 0; i < p.length; i++) p[i] = b.readFloatLE(i * 4);
  return p;
}

function agentInvalid(message: string, file?: string): RepricerError {
  return new RepricerError('INPUT_UNREADABLE', `${file ? `${file}: ` : ''}invalid agent file: ${message}`, file ? { file } : undefined);
}

/** A parsed agent file with its actor parameters decoded. */
export interface LoadedAgent {
  agent: AgentFile;
  actorParams: Float32Array;
}

/** Validate a parsed agent object; INPUT_UNREADABLE naming every field at fault. */
export function validateAgent(obj: unknown, file?: string): LoadedAgent {
  if (!validateSchema(obj)) {
    const msgs = (validateSchema.errors ?? []).map((e) => describeSchemaError(e, agentSchema));
    throw agentInvalid(msgs.join('; '), file);
  }
  const a = obj as unknown as AgentFile;
  const sz = a.actor.sizes;
  if (sz[0] !== a.state.features.length) throw agentInvalid(`actor.sizes: the input layer has ${sz[0]} units but state.features names ${a.state.features.length}`, file);
  if (sz[sz.length - 1] !== 1) throw agentInvalid(`actor.sizes: the output layer must have 1 unit (the price action), got ${sz[sz.length - 1]}`, file);
  const cs = a.training.criticSizes;
  if (cs[0] !== sz[0] + 1 || cs[cs.length - 1] !== 1) throw agentInvalid(`training.criticSizes: expected ${sz[0] + 1} inputs (state and action) and 1 output, got [${cs.join(', ')}]`, file);
  if (a.actor.params.length % 4 !== 0) throw agentInvalid(`actor.params: base64 length must be a multiple of 4, got ${a.actor.params.length}`, file);
  // a base64 string of whole quads can still decode to a byte count that is not whole f32 values
  const bytes = Buffer.byteLength(a.actor.params, 'base64');
  if (bytes % 4 !== 0) throw agentInvalid(`actor.params: decodes to ${bytes} bytes, not a whole number of f32 values`, file);
  const params = decodeParams(a.actor.params);
  const want = denseParamCount(sz);
  if (params.length !== want) throw agentInvalid(`actor.params: layer sizes [${sz.join(', ')}] need ${want} f32 values, got ${params.length}`, file);
  for (let i = 0; i < params.length; i++) if (!Number.isFinite(params[i])) throw agentInvalid(`actor.params: value ${i} is ${params[i]}, expected a finite number`, file);
  const h = configHash(a.env.config);
  if (h !== a.env.hash) throw agentInvalid(`env.hash: ${a.env.hash} is not the hash of env.config (${h})`, file);
  if (a.training.episodeReturns.length !== a.training.episodes) throw agentInvalid(`training.episodeReturns: expected one return per episode (${a.training.episodes}), got ${a.training.episodeReturns.length}`, file);
  return { agent: a, actorParams: params };
}

export function parseAgent(text: string, file?: string): LoadedAgent {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw agentInvalid(`not valid JSON (${(err as Error).message})`, file);
  }
  return validateAgent(obj, file);
}

export function loadAgent(file: string): LoadedAgent {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'agent', err);
  }
  return parseAgent(text, file);
}

export function serializeAgent(a: AgentFile): string {
  return JSON.stringify(a, null, 2) + '\n';
}

/** Validate, then write through a temporary file and rename. */
export function saveAgent(file: string, a: AgentFile): void {
  validateAgent(a);
  writeFileAtomic(file, serializeAgent(a), 'agent');
}
