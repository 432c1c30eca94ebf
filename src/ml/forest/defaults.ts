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
 * - trying 40 % of the features per node;
 * - many trees on half-samples rather than fewer on all rows: a 50-tree forest's Spearman still varies
 *   by +-0.02 with its seed; 100 trees on half the rows cost the same and score higher.
 * ED (squared difference of the treated and control rates) beat KL by 0.01 - 0.03 on most scenarios.
 * Depth 8 rarely binds: the leaf-size limits stop growth first.
 */
import type { ForestConfig } from '../types.js';

/**
 * Whether forest fits refine a pooled "(other)" bin from their training rows (data/encode.ts
 * refinePooled; the T-learner does). Off: on lab highcard (50 000 rows, in-sample, grid #0, mean of
 * forest seeds 1000 and 2000, `node bench/forest-accuracy.mjs --seed S --scenarios highcard --fast --grid
 * --forest-seeds 1000,2000` with 4 / 8 groups against none) Spearman for gen seeds 7 8 9 10 11 was
 * 0.621 0.627 0.616 0.585 0.656 without, 0.631 0.653 (0.616: not refined) 0.562 0.635 with 4 groups -
 * no gain on average (0.621 vs 0.619), gain@20 0.727 vs 0.722, and losses on seeds 10 and 11. The
 * trees already order the kept levels by uplift in each node; the refined groups mostly add noise to
 * a forest's honest half-sample splits.
 */
export const FOREST_REFINE_POOLED = false;

/*
 * Also tried (not kept): ordering only categorical levels with >= K rows in the node one by one and
 * scanning the rest as one pseudo-level (LightGBM's min_data_per_group). Highcard, same bench and
 * seeds 7-11, grid #0: K = 40 Spearman 0.612 0.599 0.608 0.599 0.635, gain@20 0.67-0.73; K = 100
 * 0.57-0.61 / 0.65-0.68 - worse: the effect sits in the individual kept levels.
 */

const BASE = {
  family: 'uplift_rf',
  maxDepth: 8,
  minSamplesTreatment: 10,
  honest: true,
  maxThresholds: 10,
  // each tree samples at most 100 000 rows: no change up to 200 000-row campaigns, 5x less work per
  // tree at 1 000 000 rows (where 100 trees still see every row about 10 times)
  maxTreeRows: 100_000,
} as const;

/** 100 honest trees, each on half of the rows (a quarter grows the structure, a quarter the leaf values). */
export const DEFAULT_FOREST: ForestConfig = {
  ...BASE,
  criterion: 'ED',
  nTrees: 100,
  sampleFraction: 0.5,
  minSamplesLeaf: 400,
  nReg: 200,
  maxFeatures: 0.4,
};

/**
 * The CV grid, default first; every entry costs about the same (trees x rows per tree). The variants
 * trade resolution for noise: bigger leaves suit low-signal campaigns (e-mail-like base rates), smaller
 * leaves rich heterogeneity; #3 is the spec's reference criterion (KL) on the default's shape.
 * `node bench/forest-accuracy.mjs --grid --forest-seeds 1000,2000 --fast` (lab seed 7, 50 000 rows,
 * fitted and scored on all rows; mean of the two forest seeds; Spearman / gain share at 20 %):
 *   #0 persuadables 0.854 / 0.963, lowsignal 0.732 / 0.914, highcard 0.617 / 0.742, null RMS 0.0049
 *   #1 persuadables 0.834 / 0.943, lowsignal 0.738 / 0.934, highcard 0.615 / 0.754 (sweep, same seeds)
 *   #2 persuadables 0.840 / 0.953, lowsignal 0.731 / 0.927, highcard 0.609 / 0.755, null RMS 0.0047
 *   #3 persuadables 0.831 / 0.933, lowsignal 0.728 / 0.907, highcard 0.621 / 0.737, null RMS 0.0049
 * (a single forest's Spearman moves by about +-0.01 - 0.02 with its seed). Every entry is within a
 * few hundredths of the best on each scenario, so a noisy CV pick costs little. Tried and dropped:
 * 50 trees on all rows with 1 200-row leaves (persuadables 0.80 / 0.85), non-honest bootstrap trees
 * (null RMS 0.018), causalml-like shapes (depth 4-6, 100-row leaves, n_reg 10-100: persuadables 0.70-0.75).
 */
export const FOREST_GRID: ForestConfig[] = [
  DEFAULT_FOREST,
  { ...BASE, criterion: 'ED', nTrees: 100, sampleFraction: 0.5, minSamplesLeaf: 800, nReg: 200, maxFeatures: 0.5 },
  { ...BASE, criterion: 'ED', nTrees: 100, sampleFraction: 0.5, minSamplesLeaf: 600, nReg: 200, maxFeatures: 0.6 },
  { ...BASE, criterion: 'KL', nTrees: 100, sampleFraction: 0.5, minSamplesLeaf: 400, nReg: 200, maxFeatures: 0.4 },
];
