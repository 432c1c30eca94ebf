/**
 * "Numbers a marketer can trust" (issue 4): the randomization check, the warnings and the `evaluation`
 * block, all built from the pipeline's out-of-fold predictions. Pure and deterministic for a seed.
 *
 * Wiring is one call: `buildEvaluation({t, y, oof, folds, data, contamination, seed, report})`.
 */
import type { BinnedDataset, EncodeReport } from '../types.js';
import { deriveSeed } from '../rng.js';
import { fitGbmClassifier, type GbmParams } from '../boosting/gbm.js';
import { foldRows } from './folds.js';
import { qiniAucScore } from './qini.js';
import { assignDeciles } from './deciles.js';
import { correctScores, round4 } from './summary.js';
import {
  ateWithInterval,
  aucNullSe,
  aucScore,
  evaluationDeciles,
  groupCounts,
  crossFitHeterogeneityTest,
  qiniCurvePoints,
  type EvaluationDecile,
  type GroupCounts,
  type CrossFitHeterogeneityResult,
  type HeterogeneityResult,
  type QiniPoint,
} from './stats.js';

// ---------------------------------------------------------------------------------------------------
// Randomization check
// ---------------------------------------------------------------------------------------------------

/** How many null standard errors above 0.5 the AUC must be, and the absolute floor, to flag. */
export const RANDOMIZATION_SE_MULTIPLE = 3;
export const RANDOMIZATION_MIN_AUC = 0.55;

/**
 * The treatment classifier: small and strongly regularised (shallow trees, few iterations, large
 * leaves, L2), so that on randomized data it has nothing to overfit. Leaf size scales down for small
 * requests so a real dependence can still be found there.
 */
export function randomizationGbmParams(nTrain: number): GbmParams {
  return {
    nIter: 30,
    learningRate: 0.1,
    maxDepth: 3,
    minSamplesLeaf: Math.max(20, Math.min(100, Math.round(nTrain / 50))),
    l2: 10,
  };
}

export interface RandomizationCheck {
  /** Mean over folds of the out-of-fold ROC AUC of a classifier predicting treatment from features. */
  auc: number;
  /** Standard deviation of that mean under "features carry no information on treatment". */
  null_se: number;
  /** auc > 0.5 + 3 null_se AND auc > 0.55. */
  flagged: boolean;
}

/**
 * Is treatment predictable from the features? For each fold k, a GBM classifier (labels = treatment)
 * is fitted on the other folds' rows and scores fold k's rows; the AUC of each fold's scores is computed
 * within the fold (one model per fold, so calibration differences between fold models do not matter)
 * and averaged. Null standard error: the Mann-Whitney null variance of each fold's AUC,
 * (n1 + n0 + 1) / (12 n1 n0), combined as the variance of a mean of independent folds.
 * Flagged when the AUC is clearly above 0.5: more than 3 null standard errors above it and above 0.55.
 */
export function randomizationCheck(data: BinnedDataset, folds: Uint8Array, seed: number): RandomizationCheck {
  let k = 0;
  for (let i = 0; i < folds.length; i++) if (folds[i] + 1 > k) k = folds[i] + 1;
  let aucSum = 0;
  let varSum = 0;
  let used = 0;
  for (let f = 0; f < k; f++) {
    const { train, test } = foldRows(folds, f);
    if (train.length === 0 || test.length === 0) continue;
    const model = fitGbmClassifier(data, train, data.treatment, randomizationGbmParams(train.length), deriveSeed(seed, 0x7a11, f));
    const p = model.predictProba(data, test);
    const labels = new Uint8Array(test.length);
    let n1 = 0;
    for (let j = 0; j < test.length; j++) {
      labels[j] = data.treatment[test[j]];
      n1 += labels[j];
    }
    const n0 = test.length - n1;
    if (n1 === 0 || n0 === 0) continue;
    aucSum += aucScore(labels, p);
    const se = aucNullSe(n1, n0);
    varSum += se * se;
    used++;
  }
  if (used === 0) return { auc: 0.5, null_se: 0, flagged: false };
  const auc = aucSum / used;
  const nullSe = Math.sqrt(varSum) / used;
  const flagged = auc - 0.5 > RANDOMIZATION_SE_MULTIPLE * nullSe && auc > RANDOMIZATION_MIN_AUC;
  return { auc, null_se: nullSe, flagged };
}

// ---------------------------------------------------------------------------------------------------
// Warnings
// ---------------------------------------------------------------------------------------------------

export type WarningCode =
  | 'FEW_CONVERSIONS'
  | 'TREATMENT_SHARE'
  | 'TREATMENT_PREDICTABLE'
  | 'NO_HETEROGENEITY'
  | 'LEVELS_POOLED'
  | 'CONSTANT_FEATURES';

export interface Warning {
  code: WarningCode;
  message: string;
}

/** Fewer conversions than this in the treated or the control group triggers FEW_CONVERSIONS. */
export const MIN_CONVERSIONS = 30;
/** A treated share outside [MIN_SHARE, 1 - MIN_SHARE] triggers TREATMENT_SHARE. */
export const MIN_TREATMENT_SHARE = 0.1;

export interface WarningInput {
  counts: GroupCounts;
  randomization?: Pick<RandomizationCheck, 'auc' | 'flagged'> | null;
  heterogeneity?: Pick<HeterogeneityResult, 'p_value' | 'significant'> | null;
  report?: EncodeReport | null;
}

const fmtP = (p: number): string => (p < 0.0001 ? '< 0.0001' : `= ${p.toPrecision(2)}`);

/**
 * Warnings in a fixed order: FEW_CONVERSIONS, TREATMENT_SHARE, TREATMENT_PREDICTABLE, NO_HETEROGENEITY,
 * LEVELS_POOLED, CONSTANT_FEATURES; each code at most once. Checks whose input is absent are skipped.
 */
export function buildWarnings(input: WarningInput): Warning[] {
  const out: Warning[] = [];
  const { counts: c } = input;
  if (c.convTreated < MIN_CONVERSIONS || c.convControl < MIN_CONVERSIONS) {
    out.push({
      code: 'FEW_CONVERSIONS',
      message:
        `Few conversions: ${c.convTreated} in the treated group and ${c.convControl} in the control group ` +
        `(fewer than ${MIN_CONVERSIONS} in at least one): uplift estimates are very noisy.`,
    });
  }
  const n = c.nTreated + c.nControl;
  const share = n > 0 ? c.nTreated / n : NaN;
  if (!(share >= MIN_TREATMENT_SHARE && share <= 1 - MIN_TREATMENT_SHARE)) {
    out.push({
      code: 'TREATMENT_SHARE',
      message:
        `The treated share is ${(share * 100).toFixed(1)}% (${c.nTreated} of ${n}), outside 10-90%: ` +
        'the smaller group limits how precisely uplift can be estimated.',
    });
  }
  const r = input.randomization;
  if (r && r.flagged) {
    out.push({
      code: 'TREATMENT_PREDICTABLE',
      message:
        `Treatment can be predicted from the features (out-of-fold AUC ${r.auc.toFixed(3)} of a treatment ` +
        'classifier; 0.5 = no better than chance). The analysis assumes a randomized campaign; if treatment ' +
        'was targeted, scores and the ATE can be biased.',
    });
  }
  const h = input.heterogeneity;
  if (h && !h.significant) {
    out.push({
      code: 'NO_HETEROGENEITY',
      message:
        `The out-of-fold scores find no significant differences in uplift between customers (BLP calibration ` +
        `test, one-sided p ${fmtP(h.p_value)}): the effect looks uniform, and targeting by decile is not ` +
        'supported by this data. The scores are shrunk toward the average effect, and feature_importance ' +
        'then shows what the model fitted, not proven drivers of uplift.',
    });
  }
  const rep = input.report;
  if (rep && rep.pooled.length > 0) {
    const list = rep.pooled.map((p) => `${p.feature} (${p.levels} levels, ${p.rows} rows)`).join(', ');
    out.push({
      code: 'LEVELS_POOLED',
      message: `Rare categorical levels were pooled into one "other" level: ${list}.`,
    });
  }
  if (rep && rep.droppedConstant.length > 0) {
    const allRare = new Set(rep.droppedAllRare ?? []);
    const constant = rep.droppedConstant.filter((name) => !allRare.has(name));
    const rare = rep.droppedConstant.filter((name) => allRare.has(name));
    const parts: string[] = [];
    if (constant.length > 0) parts.push(`Features dropped because they hold at most one distinct value: ${constant.join(', ')}.`);
    if (rare.length > 0) {
      const min = rep.rareMin !== undefined ? `fewer than ${rep.rareMin}` : 'too few';
      parts.push(
        `Categorical features dropped because every one of their levels has ${min} rows, so pooling the rare ` +
          `levels left a single bin: ${rare.join(', ')}. With more rows per level they would be used.`,
      );
    }
    out.push({ code: 'CONSTANT_FEATURES', message: parts.join(' ') });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The evaluation block
// ---------------------------------------------------------------------------------------------------

export interface Evaluation {
  /** scikit-uplift qini_auc_score(negative_effect=True) of the pooled out-of-fold scores; null if undefined. */
  qini_coefficient: number | null;
  qini_curve: QiniPoint[];
  deciles: EvaluationDecile[];
  ate: { estimate: number; ci95: [number, number] };
  heterogeneity: CrossFitHeterogeneityResult;
  randomization_check: RandomizationCheck;
}

export interface EvaluationInput {
  /** Treatment 0/1 per row. */
  t: Uint8Array;
  /** Outcome 0/1 per row. */
  y: Uint8Array;
  /** Out-of-fold predictions of the chosen configuration (uncorrected), per row. */
  oof: Float64Array;
  /** Fold id per row (the folds that produced `oof`). */
  folds: Uint8Array;
  /** The binned dataset (for the randomization check). */
  data: BinnedDataset;
  contamination: number;
  seed: number;
  /** Encoding report; default data.report. */
  report?: EncodeReport;
  /**
   * How many configurations model selection chose `oof` from by the same rows' Qini (model.cv.length);
   * default 1. The heterogeneity p-value is Bonferroni-adjusted by this number.
   */
  candidates?: number;
  /**
   * A randomization check already computed (e.g. on another worker, in parallel with the rest); when
   * absent, randomizationCheck(data, folds, seed) runs here (3 small GBM fits: most of this call's time).
   */
  randomization?: RandomizationCheck;
  /**
   * The heterogeneity test already computed on the same inputs (crossFitHeterogeneityTest(t, y, oof,
   * folds, candidates), e.g. by the pipeline's calibration), so that one test drives everything.
   */
  heterogeneity?: CrossFitHeterogeneityResult;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const r4 = (x: number | null): number | null => (x === null ? null : round4(x));
/** p-values keep 4 significant digits (rounding to 4 decimals would turn 1e-12 into 0). */
const roundP = (p: number): number => Number(p.toPrecision(4));

/**
 * Everything in the response's `evaluation` block plus `warnings`, from what the pipeline has.
 * Rounding: uplifts, rates, AUC and the Qini coefficient to 4 decimals; p-values and slopes to 4
 * significant digits; qini_curve values to 4 decimals.
 */
export function buildEvaluation(input: EvaluationInput): { evaluation: Evaluation; warnings: Warning[] } {
  const { t, y, oof, folds, data, contamination, seed } = input;
  const report = input.report ?? data.report;
  const n = t.length;
  if (y.length !== n || oof.length !== n || folds.length !== n || data.n !== n)
    throw new RangeError('buildEvaluation: input lengths differ');

  const counts = groupCounts(t, y);
  const ate = ateWithInterval(t, y, contamination);
  // Per-fold BLP tests combined (valid across dependent folds), Bonferroni over the candidates that
  // model selection chose from on these same rows: see crossFitHeterogeneityTest.
  const het = input.heterogeneity ?? crossFitHeterogeneityTest(t, y, oof, folds, input.candidates ?? 1);
  // Deciles of the out-of-fold scores, computed like the response's deciles (corrected, rounded scores).
  const corrected = correctScores(oof, contamination);
  for (let i = 0; i < n; i++) corrected[i] = round4(corrected[i]);
  const dec = assignDeciles(corrected).deciles;
  const deciles = evaluationDeciles(t, y, oof, dec, contamination).map((d) => ({
    ...d,
    predicted_uplift: round4(d.predicted_uplift),
    observed_uplift: r4(d.observed_uplift),
    observed_uplift_se: r4(d.observed_uplift_se),
  }));
  const curve = qiniCurvePoints(y, oof, t, 0.05).map((p) => ({
    fraction: p.fraction,
    incremental_conversions: round4(p.incremental_conversions),
    random: round4(p.random),
  }));
  const rand = input.randomization ?? randomizationCheck(data, folds, seed);

  const evaluation: Evaluation = {
    qini_coefficient: r4(finiteOrNull(qiniAucScore(y, oof, t))),
    qini_curve: curve,
    deciles,
    ate: { estimate: round4(ate.estimate), ci95: [round4(ate.ci95[0]), round4(ate.ci95[1])] },
    heterogeneity: {
      p_value: roundP(het.p_value),
      // The unrounded decision (the calibration and the interpretation use the same one).
      significant: het.significant,
      slope: het.slope === null ? null : roundP(het.slope),
      slope_se: het.slope_se === null ? null : roundP(het.slope_se),
      test: het.test,
      fold_p_values: het.fold_p_values.map(roundP),
      ...(het.candidate_p_values ? { candidate_p_values: het.candidate_p_values.map(roundP) } : {}),
    },
    randomization_check: { auc: round4(rand.auc), null_se: round4(rand.null_se), flagged: rand.flagged },
  };
  const warnings = buildWarnings({ counts, randomization: rand, heterogeneity: evaluation.heterogeneity, report });
  return { evaluation, warnings };
}
