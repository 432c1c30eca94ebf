/**
 * Forest configurations: the default and the cross-validation grid used by options.model "auto" /
 * "uplift_rf" (see ../models.ts).
 *
 * Chosen with bench/forest-accuracy.mjs and sweeps on lab data (50 000 rows, seed 7, fitted and scored
 * on all rows, Spearman / gain share at 20 % against the true uplift). What mattered, in order:
 * - honest trees (structure on one half of the rows, leaf values on the other): null-scenario RMS of
 *   scores 0.005 instead of 0.018, lowsignal Spearman +0.05;
 * - strong n_reg shrinkage of child rates toward the parent (hundreds of pseudo-rows, not causalml's
 *   default 100 / 10): persuadables Spearman 0.77 -> 0.83;
 * - large leaves (400 - 1200 rows) and few numeric thresholds per node (10 node-local quantiles);
 * - trying 40 % of the features per node: persuadables 0.826 -> 0.853;
 * - 50 trees: 30 loses ~0.01, 100 gains nothing measurable.
 * ED (squared difference of the treated and control rates) beat KL by 0.01 - 0.03 on most scenarios.
 * Depth 8 rarely binds: the leaf-size limits stop growth first.
 */
import type { ForestConfig } from '../types.js';

const BASE = {
  family: 'uplift_rf',
  nTrees: 50,
  maxDepth: 8,
  minSamplesTreatment: 10,
  sampleFraction: 1,
  honest: true,
  maxThresholds: 10,
} as const;

export const DEFAULT_FOREST: ForestConfig = {
  ...BASE,
  criterion: 'ED',
  minSamplesLeaf: 800,
  nReg: 400,
  maxFeatures: 0.4,
};

/**
 * The CV grid, default first. The variants trade resolution for noise: bigger leaves and weaker
 * shrinkage suit low-signal campaigns (e-mail-like base rates), smaller leaves and stronger shrinkage
 * rich heterogeneity.
 */
export const FOREST_GRID: ForestConfig[] = [
  DEFAULT_FOREST,
  { ...BASE, criterion: 'ED', minSamplesLeaf: 1200, nReg: 200, maxFeatures: 0.6 },
  { ...BASE, criterion: 'ED', minSamplesLeaf: 400, nReg: 1000, maxFeatures: 0.4 },
  { ...BASE, criterion: 'KL', minSamplesLeaf: 1000, nReg: 100, maxFeatures: 0.6, sampleFraction: 0.5 },
];
