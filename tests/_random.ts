/**
 * A small seeded random generator for tests that generate their inputs,
 * so that a failure can be replayed.
 *
 * @module
 */

/**
 * Mulberry32: a seeded generator of floats in [0, 1).
 *
 * @param seed The seed.
 * @returns The generator.
 */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
