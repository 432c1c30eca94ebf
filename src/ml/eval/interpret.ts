/**
 * The plain-language `interpretation` (SPEC "Response 200" example), in plain ASCII ("~" for
 * "approximately"). Built only from the numbers in the response:
 *   "Treatment group converted at 63.81% vs control 25.71% (ATE +0.381). Decile 10 contains 21 customers
 *    with mean uplift +0.412, representing ~8.7 additional conversions if fully targeted. Decile 1's mean
 *    uplift is -0.104 - ideal as a hold-out or cost-control segment."
 * Additional conversions = mean uplift of the top decile x its number of customers. When `uniform` (no
 * real heterogeneity found out of fold), the bottom decile is named without a targeting recommendation
 * and a closing sentence says targeting by decile is not supported.
 */
import type { DecileSummaryRow } from '../types.js';

export interface InterpretInput {
  treatment_cr: number;
  control_cr: number;
  average_treatment_effect: number;
  /** Ascending by decile, non-empty deciles only. */
  decile_summary: DecileSummaryRow[];
  /** Optional 95 % interval of the ATE (quoted when given). */
  ate_ci95?: [number, number];
  /** Optional: true when a heterogeneity test found no real differences in uplift. */
  uniform?: boolean;
}

/** Signed fixed-point, never "-0.000". */
export function signed(x: number, digits: number): string {
  const s = Math.abs(x).toFixed(digits);
  const zero = Number(s) === 0;
  return (x < 0 && !zero ? '-' : '+') + s;
}

function pct(x: number): string {
  return (x * 100).toFixed(2) + '%';
}

export function interpret(input: InterpretInput): string {
  const { treatment_cr, control_cr, average_treatment_effect: ate, decile_summary: table } = input;
  const parts: string[] = [];
  const ci = input.ate_ci95
    ? `, 95% CI ${signed(input.ate_ci95[0], 3)} to ${signed(input.ate_ci95[1], 3)}`
    : '';
  parts.push(`Treatment group converted at ${pct(treatment_cr)} vs control ${pct(control_cr)} (ATE ${signed(ate, 3)}${ci}).`);
  if (table.length === 0) return parts.join(' ');
  if (table.length === 1) {
    const only = table[0];
    parts.push(
      `All ${only.n_customers} customers fall in one decile (mean uplift ${signed(only.mean_uplift, 3)}): ` +
        'the scores do not separate customers, so there is no top or bottom segment to target.',
    );
  } else {
    const top = table[table.length - 1];
    const bottom = table[0];
    const extra = top.mean_uplift * top.n_customers;
    parts.push(
      `Decile ${top.decile} contains ${top.n_customers} customers with mean uplift ${signed(top.mean_uplift, 3)}, ` +
        `representing ~${extra.toFixed(1)} additional conversions if fully targeted.`,
    );
    parts.push(
      input.uniform
        ? `Decile ${bottom.decile}'s mean uplift is ${signed(bottom.mean_uplift, 3)}.`
        : bottom.mean_uplift < 0
          ? `Decile ${bottom.decile}'s mean uplift is ${signed(bottom.mean_uplift, 3)} - ideal as a hold-out or cost-control segment.`
          : `Decile ${bottom.decile} has the lowest mean uplift (${signed(bottom.mean_uplift, 3)}) - a natural hold-out or cost-control segment.`,
    );
  }
  if (input.uniform) {
    parts.push('The effect looks uniform across customers: targeting by decile is not supported by this data.');
  }
  return parts.join(' ');
}
