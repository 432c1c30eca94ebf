/**
 * The one seeded PRNG of the ML core. Every random choice takes an `Rng` as an argument;
 * nothing in src/ml calls Math.random().
 *
 * Algorithm: mulberry32 (Tommy Ettinger's 32-bit generator; public-domain formula).
 * Streams are derived with `deriveSeed(seed, ...keys)` so that, e.g., tree k of a forest gets the
 * same random numbers whichever worker grows it (determinism independent of pool size).
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/** Mixes a seed with integer keys into a new 32-bit seed (splitmix32-style finaliser). */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const k of keys) {
    h = Math.imul(h ^ (k >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}
