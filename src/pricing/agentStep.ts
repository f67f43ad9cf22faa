/**
 * The agent step (docs/rl.md, "Pricing with an agent"): a trained actor network proposes each
 * row's price in place of the model's optimum, and the engine's guardrails, rounding, status and
 * explanation follow as for the optimiser.
 *
 * The actor reads the state it was trained on (docs/math.md §10.1), built from catalogue columns:
 *
 *   last_price_over_p0  current_price / P0
 *   stock_share         inventory / S0
 *   days_left_share     days_left / T
 *
 * with P0, S0 and T the reference price, initial stock and season length of the environment the
 * agent was trained on (its file's env.config p0, initial_stock, days): the agent prices the
 * season it learnt. Its tanh action is mapped onto the row's feasible set (pricing/feasiblePrice.ts)
 * whose bounds are the row's own hard bounds under the policy (hardPriceBounds: the floors, MAP,
 * ceilings and margin floor applyPolicy enforces) and whose step is the policy's maxChangePct (the
 * agent's trained step when the policy has none), so the guardrails never move the proposed price;
 * only rounding onto the grid can. A row without a positive current_price, a finite inventory ≥ 0
 * or a finite days_left ≥ 0 has no state and is rejected (out_of_domain: the 16 reason bits are all
 * taken).
 *
 * The network runs in the WASM core (core/mlp.ts) in blocks of AGENT_BLOCK rows, so its buffers
 * are allocated once, when the agent is made (no arena scope may be open then), never per chunk.
 */
import type { WasmCore } from '../core/wasm.js';
import { createMlp, type Mlp } from '../core/mlp.js';
import type { Policy } from './policy.js';
import { hardPriceBounds } from './guardrails.js';
import { actionToPrice, feasibleSet } from './feasiblePrice.js';

export const AGENT_STATE_FEATURES = ['last_price_over_p0', 'stock_share', 'days_left_share'] as const;

/** Rows per forward pass: the network's activation buffers hold this many rows. */
export const AGENT_BLOCK = 256;

/** What a worker or the server needs to price with an agent (structured-clone safe). */
export interface AgentSpec {
  /** identifies the agent within a process (a worker builds its network once per id) */
  id: string;
  /** the actor's layer sizes: 3 inputs (AGENT_STATE_FEATURES), tanh output of 1 */
  sizes: number[];
  /** the actor's parameters (f32), layer by layer as core/mlp.ts lays them out */
  params: Float32Array;
  /** the training environment's reference price, initial stock and season length */
  p0: number;
  initialStock: number;
  days: number;
  /** the largest daily change the agent was trained with (percent): its step when the policy has none */
  maxStepPct: number;
}

/** The per-row inputs of the agent step (the engine's columns). */
export interface AgentRows {
  n: number;
  ids: string[];
  perProduct: boolean;
  /** the cost the guardrails see: the row's, else the model's reservation */
  cost: Float64Array;
  currentPrice: Float64Array;
  minPrice: Float64Array;
  maxPrice: Float64Array;
  mapPrice?: Float64Array;
  inventory?: Float64Array;
  daysLeft?: Float64Array;
}

export class PricingAgent {
  readonly spec: AgentSpec;
  private readonly actor: Mlp;
  private readonly x = new Float32Array(AGENT_BLOCK * AGENT_STATE_FEATURES.length);

  /** Builds the actor in `core`: call with no arena scope open. */
  constructor(core: WasmCore, spec: AgentSpec) {
    if (spec.sizes[0] !== AGENT_STATE_FEATURES.length || spec.sizes[spec.sizes.length - 1] !== 1) {
      throw new RangeError(`PricingAgent: the actor must read ${AGENT_STATE_FEATURES.length} state features and output 1 action, got sizes [${spec.sizes.join(', ')}]`);
    }
    this.spec = spec;
    this.actor = createMlp(core, { sizes: spec.sizes, output: 'tanh' });
    this.actor.setParams(spec.params);
    // allocate the activations for a whole block now, outside any scope
    this.actor.forward(this.x, AGENT_BLOCK);
  }

  /** The actor's state of one row, or false when a state column is missing or out of range. */
  private state(r: AgentRows, i: number, out: Float32Array, at: number): boolean {
    const last = r.currentPrice[i];
    const inv = r.inventory ? r.inventory[i] : NaN;
    const left = r.daysLeft ? r.daysLeft[i] : NaN;
    if (!(last > 0) || !Number.isFinite(last) || !(inv >= 0) || !Number.isFinite(inv) || !(left >= 0) || !Number.isFinite(left)) return false;
    const s = this.spec;
    out[at] = last / s.p0;
    out[at + 1] = inv / s.initialStock;
    out[at + 2] = left / s.days;
    return true;
  }

  /**
   * The proposed price of every row into `price`; `missing[i]` = 1 where the row has no state (its
   * price is then the placeholder 1: the engine rejects it). A row whose bounds leave no price gets
   * its current price as placeholder: applyPolicy rejects it with the bounds' own reason.
   */
  propose(policy: Policy, r: AgentRows, price: Float64Array, missing: Uint8Array): void {
    const k = AGENT_STATE_FEATURES.length;
    const rows = new Int32Array(AGENT_BLOCK);
    const step = policy.maxChangePct ?? this.spec.maxStepPct;
    for (let s = 0; s < r.n; s += AGENT_BLOCK) {
      const e = Math.min(r.n, s + AGENT_BLOCK);
      let m = 0;
      for (let i = s; i < e; i++) {
        missing[i] = 0;
        if (this.state(r, i, this.x, m * k)) rows[m++] = i;
        else {
          missing[i] = 1;
          price[i] = 1;
        }
      }
      if (m === 0) continue;
      const a = this.actor.forward(this.x.subarray(0, m * k), m);
      for (let j = 0; j < m; j++) {
        const i = rows[j];
        const last = r.currentPrice[i];
        const b = hardPriceBounds(policy, {
          productId: r.perProduct ? r.ids[i] : '',
          modelPrice: last,
          cost: r.cost[i],
          currentPrice: last,
          minPrice: r.minPrice[i],
          maxPrice: r.maxPrice[i],
          mapPrice: r.mapPrice ? r.mapPrice[i] : NaN,
          gamma: -1,
          stdError: 0,
        });
        price[i] = b ? actionToPrice(a[j], feasibleSet(last, { floor: b.lo, ceiling: b.hi, maxStepPct: step })) : last;
      }
    }
  }
}
