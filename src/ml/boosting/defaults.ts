/**
 * Defaults of the boosting T-learner (see tlearner.ts), for model selection (src/ml/models.ts / pipeline).
 *
 * A TLearnerConfig describes the two ARM models (one on treated rows, one on control rows). The arms
 * boost from a shared base model fitted on all rows (TLEARNER_BASE, the same for every configuration),
 * and only split where the gain beats a multiple-comparison penalty (TLEARNER_ARM_EXTRAS.gainPenalty):
 * for log-loss the gain is about half a chi-squared statistic, so noise rarely passes it, and an arm
 * stops boosting at its first tree without an admissible split. That is what keeps scores near zero
 * when there is no effect.
 * Chosen on lab data (bench/gbm-tune.mjs; scenarios persuadables, lowsignal, highcard, null).
 *
 * Every T-learner fit first refines a pooled "(other)" categorical bin from its own training rows
 * (tlearner.ts -> data/encode.ts refinePooled: cross-fitted empirical-Bayes uplift encoding of the pooled
 * levels, 4 groups, only when the between-level heterogeneity test passes). Lab highcard, 50 000 rows,
 * in-sample, `node bench/gbm-accuracy.mjs --seed S --scenarios highcard --grid 0,1 --reps 1`, Spearman
 * / gain@20 without -> with, gen seeds 7 8 10 11 (seed 9: the test does not pass on all rows, unchanged):
 *   grid[0]: 0.563/0.711 -> 0.588/0.715, 0.614/0.693 -> 0.632/0.703, 0.575/0.712 -> 0.591/0.726, 0.644/0.712 -> 0.648/0.710
 *   grid[1]: 0.572/0.722 -> 0.593/0.718, 0.629/0.693 -> 0.641/0.693, 0.577/0.724 -> 0.591/0.734, 0.652/0.715 -> 0.663/0.721
 * 2 and 8 groups were worse than 4 (8 groups: seed 10 grid[0] 0.548); refining regardless of the test:
 * seed 9 0.619 -> 0.623. Cost: about 10 ms per 50 000-row fit when it refines (counts per cross-fitting
 * part, one pass over the rows).
 */
import type { TLearnerConfig } from '../types.js';
import type { GbmParams } from './gbm.js';

/**
 * Each tree of the base and of the arms is grown on at most about this many rows (a seeded Bernoulli
 * sample beyond it): no effect up to 150 000 training rows (225 000-row requests in 3-fold CV); on
 * 1 M rows it bounds the T-learner's fit time (bench in the commit message / report).
 */
export const TREE_ROWS_CAP = 150_000;

/** The shared base model (outcome on all rows, treatment ignored); null = classic T-learner. */
export const TLEARNER_BASE: GbmParams | null = {
  // 20 x 0.4 instead of 30 x 0.3: a third less base time; Spearman the same within +-0.01 except
  // lowsignal seed 7 (0.69 -> 0.64), a scenario the forest wins anyway.
  nIter: 20,
  learningRate: 0.4,
  maxDepth: 3,
  minSamplesLeaf: 100,
  l2: 10,
  catSmooth: 10,
  catL2: 10,
  minDataPerGroup: 10,
  maxTreeRows: TREE_ROWS_CAP,
};

/** GBM parameters of the arm models that TLearnerConfig does not carry. */
export const TLEARNER_ARM_EXTRAS: Partial<GbmParams> = {
  // A split must beat 0.5 * ln(number of partitions its feature's scan tried): about the size of the
  // largest gain noise produces over those partitions (gain ~ chi2(1)/2). Compared with a flat minGain
  // of 2 (seeds 7 / 8): persuadables 0.86/0.80 -> 0.88/0.85, lowsignal 0.61/0.43 -> 0.69/0.44,
  // highcard 0.52/0.59 -> 0.54/0.62 Spearman; null RMS 0.004/0.005 -> 0.007/0.006 (limit 0.012).
  minGain: 0,
  gainPenalty: 0.5,
  // Categorical splits also pay 0.1 per extra group ordered (noise gains grow ~linearly with the number
  // of levels). On highcard with the effect removed (outcomes redrawn from p0) the arms' RMS of scores
  // fell from 0.017-0.025 to 0.007-0.011; highcard Spearman (seeds 7/8/9) 0.54/0.62/0.57 -> 0.56/0.61/0.62.
  catGainPenalty: 0.1,
  minHessianLeaf: 1e-3,
  catSmooth: 10,
  catL2: 30,
  // Levels kept by the encoder have >= 100 rows (rare ones are pooled), so about 50 per arm at the
  // root: levels with fewer rows in a node are not ordered on their own (they go right). On highcard
  // this raised Spearman by ~0.02-0.05 (seeds 7 and 8) over 10.
  minDataPerGroup: 50,
  maxTreeRows: TREE_ROWS_CAP,
};

/**
 * Two arm configurations of depth-2 trees (main effects and pairwise interactions of the arms'
 * departures from the base): a faster-learning one and a slower, more regularised one. Lab, 50 000
 * rows, fit and scored on all rows (bench/gbm-accuracy.mjs, gen seeds 7 / 8), Spearman vs true uplift:
 *   [0]: persuadables 0.89 / 0.84, lowsignal 0.67 / 0.43, highcard 0.56 / 0.61, null RMS 0.005 / 0.007
 *   [1]: persuadables 0.89 / 0.84, lowsignal 0.66 / 0.46, highcard 0.57 / 0.63, null RMS 0.004 / 0.005
 * (Depth-3 arms were 0.01-0.03 worse on every scenario.)
 */
export const TLEARNER_GRID: TLearnerConfig[] = [
  { family: 't_learner', nIter: 60, learningRate: 0.15, maxDepth: 2, minSamplesLeaf: 200, l2: 10 },
  { family: 't_learner', nIter: 100, learningRate: 0.1, maxDepth: 2, minSamplesLeaf: 400, l2: 30 },
];
