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

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Mixes a seed with integer keys into a new 32-bit seed. The seed and every key are each passed through
 * the finaliser before they are combined, so nearby inputs such as (42, 1) and (43, 0) do not collide
 * (a plain `seed ^ key` would make those two streams identical).
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const k of keys) h = fmix32((h + 0x632be5ab) ^ fmix32((k >>> 0) + 0x7f4a7c15));
  return h >>> 0;
}
