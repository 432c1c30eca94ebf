/** Squared Euclidean distance between the treated and control Bernoulli distributions (causalml evaluate_ED). */
export function euclidean(pt: number, pc: number): number {
  const d = pt - pc;
  return 2 * d * d;
}
