/**
 * The random numbers the learning agent draws: uniforms (replay sampling) and standard normals
 * (exploration and target-policy noise). The caller hands in a seeded stream (the simulator's
 * xoshiro128** Rng satisfies this), so a training run is a function of its seed.
 */
export interface RandomSource {
  /** uniform on [0, 1) */
  uniform(): number;
  /** standard normal */
  normal(): number;
}
