/**
 * The market solvers' seeding of the project's generator (src/core/random.ts): one seed, plus
 * exactly uniform integers for drawing a participant.
 */
import { Xoshiro128, splitmix32 } from '../core/random.js';

export class MarketRng extends Xoshiro128 {
  constructor(seed: number) {
    const st = { s: (Math.trunc(seed) >>> 0) ^ 0x9e3779b9 };
    super(splitmix32(st), splitmix32(st), splitmix32(st), splitmix32(st));
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.nextU32();
  }

  /** A uniform integer in [0, k) (k <= 2^32), by rejection so it is exactly uniform. */
  below(k: number): number {
    const limit = 4294967296 - (4294967296 % k);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % k;
    }
  }
}
