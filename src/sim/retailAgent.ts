/**
 * The learning agent in the retail season (docs/rl.md): what it observes, what it is rewarded
 * with, and the trained actor as a policy of `repricer simulate retail`.
 *
 *   state   [yesterday's price / P0, stock / initial stock, days left / days]
 *   action  the actor's tanh output, mapped onto today's feasible price set (src/pricing/feasiblePrice.ts)
 *   reward  'blend':   0.4·profit/(P0·Q0) + 0.3·sold/Q0 + 0.3·(1 − stock after / initial stock)
 *           'profit': profit/(P0·Q0)
 *
 * The 'blend' reward is the weighting of the source design (profit, units, and a bonus for stock
 * already sold, paid every day); 'profit' is the day's profit alone, the quantity every other
 * policy is judged by, scaled to order one. Both are divided by the same P0·Q0.
 */
import type { Mlp } from '../core/mlp.js';
import type { MlpFactory } from '../rl/td3.js';
import { actionToPrice, countBinds, emptyBindCounts, feasibleSet, type BindCounts, type PriceGuardrails } from '../pricing/feasiblePrice.js';
import type { AgentReward, LoadedAgent } from '../rl/agentFile.js';
import { RetailEnv, type DayOutcome, type RetailEnvConfig, type RetailState } from './retailEnv.js';
import { Rng, STREAM_RETAIL_DEMAND, STREAM_RETAIL_POLICY } from './random.js';
import { priceBounds, type RetailGuardrails, type RetailPolicy } from './retailPolicies.js';

export const RETAIL_STATE_FEATURES = ['last_price_over_p0', 'stock_share', 'days_left_share'] as const;

/** The observation of a morning as the actor's input. */
export function retailStateVector(env: RetailEnvConfig, s: RetailState, out = new Float32Array(RETAIL_STATE_FEATURES.length)): Float32Array {
  out[0] = s.lastPrice / env.p0;
  out[1] = s.initialStock > 0 ? s.stock / s.initialStock : 0;
  out[2] = s.daysLeft / env.days;
  return out;
}

/** The reward of one day (see the header). */
export function retailReward(kind: AgentReward, env: RetailEnvConfig, o: DayOutcome): number {
  const scale = env.p0 * env.q0;
  const profit = scale > 0 ? o.profit / scale : 0;
  if (kind === 'profit') return profit;
  const units = env.q0 > 0 ? o.sold / env.q0 : 0;
  const sold = env.initial_stock > 0 ? 1 - o.stock / env.initial_stock : 0;
  return 0.4 * profit + 0.3 * units + 0.3 * sold;
}

/** The simulator's relative guardrails as the absolute bounds of the feasible set. */
export function retailPriceGuardrails(env: RetailEnvConfig, g: RetailGuardrails): PriceGuardrails {
  const { lo, hi } = priceBounds(env, g);
  return { floor: lo, ceiling: hi, maxStepPct: g.maxStepPct };
}

/**
 * A trained actor as a retail policy: each morning the actor's action for the state, mapped onto
 * the feasible set of the agent's own guardrails (no exploration). Counts how often each bound
 * binds over the days it priced.
 */
export class AgentPolicy implements RetailPolicy {
  readonly name: string;
  readonly binds: BindCounts = emptyBindCounts();
  /** the guardrails the agent was trained with (its actions are mapped into them) */
  readonly guardrails: RetailGuardrails;
  private readonly actor: Mlp;
  private g: PriceGuardrails | null = null;
  private env: RetailEnvConfig | null = null;
  private readonly x = new Float32Array(RETAIL_STATE_FEATURES.length);

  /** `factory`: the WASM core's createMlp in production, the twin in tests. */
  constructor(factory: MlpFactory, loaded: LoadedAgent) {
    const a = loaded.agent;
    const want = RETAIL_STATE_FEATURES.join(', ');
    if (a.state.features.join(', ') !== want) throw new RangeError(`AgentPolicy: the agent reads state features [${a.state.features.join(', ')}], the retail season provides [${want}]`);
    this.name = a.algo;
    this.actor = factory({ sizes: a.actor.sizes, output: 'tanh' });
    this.actor.setParams(loaded.actorParams);
    this.guardrails = { ...a.guardrails };
  }

  reset(env: RetailEnvConfig): void {
    this.env = env;
    this.g = retailPriceGuardrails(env, this.guardrails);
  }

  price(state: RetailState): number {
    const set = feasibleSet(state.lastPrice, this.g!);
    countBinds(this.binds, set);
    const a = this.actor.forward(retailStateVector(this.env!, state, this.x), 1)[0];
    return actionToPrice(a, set);
  }
}

/**
 * The mean undiscounted return under reward `kind` of a policy over the seasons k = 0 … episodes − 1
 * of `seed` — the demand shocks simulateRetail plays (common random numbers) — so a reward's
 * optimum can be compared across policies, not only the profit.
 */
export function meanRewardReturn(kind: AgentReward, env: RetailEnvConfig, policy: RetailPolicy, episodes: number, seed: number): number {
  let total = 0;
  for (let k = 0; k < episodes; k++) {
    const world = new RetailEnv(env);
    let state = world.reset(new Rng(seed, k, STREAM_RETAIL_DEMAND));
    policy.reset(env, new Rng(seed, k, STREAM_RETAIL_POLICY, -1));
    while (!world.done) {
      total += retailReward(kind, env, world.step(policy.price(state)));
      state = world.state;
    }
  }
  return total / episodes;
}
