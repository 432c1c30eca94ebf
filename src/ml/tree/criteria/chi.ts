/** Chi-squared divergence of the treated from the control distribution (causalml evaluate_Chi). */
export function chiSquared(pt: number, pc: number): number {
  const d2 = (pt - pc) * (pt - pc);
  return d2 / (pc > 1e-6 ? pc : 1e-6) + d2 / (1 - pc > 1e-6 ? 1 - pc : 1e-6);
}
