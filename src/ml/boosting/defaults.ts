/**
 * Defaults of the boosting T-learner (see tlearner.ts), for model selection (src/ml/models.ts / pipeline).
 *
 * A TLearnerConfig describes the two ARM models (one on treated rows, one on control rows). The arms
 * boost from a shared base model fitted on all rows (TLEARNER_BASE, the same for every configuration),
 * and only split where the gain passes `minGain` (TLEARNER_ARM_EXTRAS): for log-loss the gain is about
 * half a chi-squared statistic, so noise rarely passes 2 and an arm stops boosting at its first tree
 * without an admissible split. That is what keeps scores near zero when there is no effect.
 * Chosen on lab data (bench/gbm-tune.mjs; scenarios persuadables, lowsignal, highcard, null).
 */
import type { TLearnerConfig } from '../types.js';
import type { GbmParams } from './gbm.js';

/** The shared base model (outcome on all rows, treatment ignored); null = classic T-learner. */
export const TLEARNER_BASE: GbmParams | null = {
  nIter: 30,
  learningRate: 0.3,
  maxDepth: 3,
  minSamplesLeaf: 100,
  l2: 10,
  catSmooth: 10,
  catL2: 10,
  minDataPerGroup: 10,
};

/** GBM parameters of the arm models that TLearnerConfig does not carry. */
export const TLEARNER_ARM_EXTRAS: Partial<GbmParams> = {
  minGain: 2,
  minHessianLeaf: 1e-3,
  catSmooth: 10,
  catL2: 30,
  minDataPerGroup: 10,
};

export const TLEARNER_GRID: TLearnerConfig[] = [
  { family: 't_learner', nIter: 60, learningRate: 0.15, maxDepth: 2, minSamplesLeaf: 200, l2: 10 },
  { family: 't_learner', nIter: 40, learningRate: 0.2, maxDepth: 3, minSamplesLeaf: 300, l2: 10 },
];
