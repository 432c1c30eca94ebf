/**
 * Default configurations of the boosting T-learner, for model selection (src/ml/models.ts / pipeline).
 */
import type { TLearnerConfig } from '../types.js';
import type { GbmParams } from './gbm.js';

type Extra = Partial<GbmParams>;

/**
 * GBM parameters every T-learner configuration shares (not part of TLearnerConfig).
 * `base`: the shared base model's overrides of the configuration (null = classic T-learner);
 * `arm`: extras of the two arm models.
 */
export const TLEARNER_FIXED: { base: Extra | null; arm: Extra } = {
  base: {},
  arm: {
    minHessianLeaf: 1e-3,
    catSmooth: 10,
    catL2: 10,
    minDataPerGroup: 10,
    minGain: 5,
  },
};

export const TLEARNER_GRID: TLearnerConfig[] = [
  { family: 't_learner', nIter: 100, learningRate: 0.1, maxDepth: 3, minSamplesLeaf: 100, l2: 10 },
  { family: 't_learner', nIter: 60, learningRate: 0.1, maxDepth: 4, minSamplesLeaf: 200, l2: 20 },
];
