/**
 * Kullback-Leibler divergence between two Bernoulli distributions, as causalml's `kl_divergence`
 * (uplift.pyx, Rzepakowski & Jaroszewicz 2012): KL(p_t || p_c) with p_c clipped to [1e-6, 1 - 1e-6],
 * 0 when p_c is exactly 0, and the one-term forms at p_t = 0 or 1.
 */
const EPS = 1e-6;

export function klDivergence(pk: number, qk: number): number {
  if (qk === 0) return 0;
  const q = qk < EPS ? EPS : qk > 1 - EPS ? 1 - EPS : qk;
  if (pk === 0) return -Math.log(1 - q);
  if (pk === 1) return -Math.log(q);
  return pk * Math.log(pk / q) + (1 - pk) * Math.log((1 - pk) / (1 - q));
}
