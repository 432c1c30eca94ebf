/**
 * SPEC summaries: conversion rates, the contamination-corrected ATE and scores, deciles and the decile
 * table.
 *
 * Contamination (SPEC "Contamination"): if a share c of the control group was exposed, the observed
 * control rate is (1 - c) p0 + c p1, so the effect of exposure is (cr_t - cr_c) / (1 - c) (the Wald /
 * complier-effect correction). Per-customer model differences are divided by (1 - c) as well and clipped
 * to [-1, 1]; the ranking is unchanged up to clipping.
 */
import { assignDeciles, MIN_DECILE_SIZE } from './deciles.js';
import type { DecileSummaryRow } from '../types.js';

/** Rounds to 4 decimals, as responses do: Math.round(x * 1e4) / 1e4 (halves toward +infinity), -0 -> 0. */
export function round4(x: number): number {
  const r = Math.round(x * 1e4) / 1e4;
  return r === 0 ? 0 : r;
}

export interface ConversionRates {
  treatment_cr: number;
  control_cr: number;
  nTreated: number;
  nControl: number;
}

export function conversionRates(treatment: ArrayLike<number>, outcome: ArrayLike<number>): ConversionRates {
  let nt = 0;
  let yt = 0;
  let yc = 0;
  const n = treatment.length;
  for (let i = 0; i < n; i++) {
    if (treatment[i] === 1) {
      nt++;
      yt += outcome[i];
    } else yc += outcome[i];
  }
  const nc = n - nt;
  return { treatment_cr: nt ? yt / nt : 0, control_cr: nc ? yc / nc : 0, nTreated: nt, nControl: nc };
}

/** (cr_t - cr_c) / (1 - c). */
export function correctedAte(treatmentCr: number, controlCr: number, contamination: number): number {
  return (treatmentCr - controlCr) / (1 - contamination);
}

/** Model differences divided by (1 - c), clipped to [-1, 1]. New array. */
export function correctScores(raw: Float64Array, contamination: number): Float64Array {
  const out = new Float64Array(raw.length);
  const f = 1 / (1 - contamination);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] * f;
    out[i] = v > 1 ? 1 : v < -1 ? -1 : v;
  }
  return out;
}

export interface Summary {
  treatment_cr: number;
  control_cr: number;
  average_treatment_effect: number;
  /** Corrected, clipped, unrounded. */
  scores: Float64Array;
  /** round4 of `scores`: what the response returns and what deciles are computed on. */
  rounded: Float64Array;
  deciles: Uint8Array;
  /** Ascending by decile; mean_uplift = mean of the rounded scores of the decile (not itself rounded). */
  decile_summary: DecileSummaryRow[];
}

export function summarize(
  treatment: Uint8Array,
  outcome: Uint8Array,
  rawScores: Float64Array,
  contamination: number,
  minDecileSize: number = MIN_DECILE_SIZE,
): Summary {
  if (!(contamination >= 0 && contamination < 1)) throw new RangeError('contamination must be in [0, 1)');
  const rates = conversionRates(treatment, outcome);
  const scores = correctScores(rawScores, contamination);
  const rounded = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) rounded[i] = round4(scores[i]);
  const { deciles, buckets } = assignDeciles(rounded, minDecileSize);
  const sums = new Float64Array(11);
  for (let i = 0; i < rounded.length; i++) sums[deciles[i]] += rounded[i];
  const decile_summary: DecileSummaryRow[] = buckets.map((b) => ({
    decile: b.decile,
    mean_uplift: sums[b.decile] / b.n,
    n_customers: b.n,
  }));
  return {
    treatment_cr: rates.treatment_cr,
    control_cr: rates.control_cr,
    average_treatment_effect: correctedAte(rates.treatment_cr, rates.control_cr, contamination),
    scores,
    rounded,
    deciles,
    decile_summary,
  };
}
