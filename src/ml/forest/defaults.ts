/**
 * Forest configurations: the default and the cross-validation grid used by options.model "auto" /
 * "uplift_rf" (see ../models.ts). Chosen with bench/forest-accuracy.mjs (numbers in its header).
 */
import type { ForestConfig } from '../types.js';

export const DEFAULT_FOREST: ForestConfig = {
  family: 'uplift_rf',
  criterion: 'KL',
  nTrees: 50,
  maxDepth: 6,
  minSamplesLeaf: 100,
  minSamplesTreatment: 10,
  nReg: 100,
  maxFeatures: 0.6,
  sampleFraction: 0.6,
};

export const FOREST_GRID: ForestConfig[] = [
  DEFAULT_FOREST,
  { ...DEFAULT_FOREST, maxDepth: 4 },
  { ...DEFAULT_FOREST, criterion: 'ED' },
  { ...DEFAULT_FOREST, criterion: 'Chi' },
];
