/**
 * The two model families behind one interface, the configuration grid, and readable labels.
 *
 * - "uplift_rf": the histogram uplift random forest (src/ml/forest/forest.ts), grid FOREST_GRID
 *   (src/ml/forest/defaults.ts).
 * - "t_learner": two histogram GBM classifiers (src/ml/boosting/tlearner.ts), grid TLEARNER_GRID
 *   (src/ml/boosting/defaults.ts).
 * options.model "auto" uses FOREST_GRID followed by TLEARNER_GRID (indices in that order).
 */
import type { BinnedDataset, FittedModel, ModelChoice, ModelConfig } from './types.js';
import { fitUpliftForest, mergeForests, UpliftForest, type ForestBuffers } from './forest/forest.js';
import { FOREST_GRID } from './forest/defaults.js';
import { fitTLearner, TLearnerModel, type TLearnerBuffers } from './boosting/tlearner.js';
import { TLEARNER_GRID } from './boosting/defaults.js';

/** The candidate configurations for an options.model choice, in a fixed order. */
export function gridFor(model: ModelChoice): ModelConfig[] {
  switch (model) {
    case 'uplift_rf':
      return [...FOREST_GRID];
    case 't_learner':
      return [...TLEARNER_GRID];
    case 'auto':
      return [...FOREST_GRID, ...TLEARNER_GRID];
    default:
      throw new RangeError(`unknown model choice: ${String(model)}`);
  }
}

/**
 * Fits `config` on `rows` of `data`. `treeRange` [from, to) fits only those trees of a forest (for
 * splitting a forest across workers; tree k is seeded by (seed, k) so the parts merge into the same
 * forest as a one-shot fit); it is ignored by the T-learner.
 */
export function fitModel(
  data: BinnedDataset,
  rows: Uint32Array,
  config: ModelConfig,
  seed: number,
  treeRange?: [number, number],
): FittedModel {
  if (config.family === 'uplift_rf') return fitUpliftForest(data, rows, config, seed, treeRange);
  if (config.family === 't_learner') return fitTLearner(data, rows, config, seed);
  throw new RangeError(`unknown model family: ${String((config as { family?: unknown }).family)}`);
}

/** Combines forest parts fitted on disjoint tree ranges (in range order) into one model. */
export function mergeModelParts(parts: FittedModel[]): FittedModel {
  if (parts.length === 1) return parts[0];
  if (!parts.every((p) => p instanceof UpliftForest)) throw new TypeError('mergeModelParts: only forest parts merge');
  return mergeForests(parts as UpliftForest[]);
}

/** A fitted model as plain typed arrays (transferable across a worker boundary). */
export type ModelBuffers =
  | { family: 'uplift_rf'; forest: ForestBuffers }
  | { family: 't_learner'; tlearner: TLearnerBuffers };

export function modelToBuffers(model: FittedModel): ModelBuffers {
  if (model instanceof UpliftForest) return { family: 'uplift_rf', forest: model.toBuffers() };
  if (model instanceof TLearnerModel) return { family: 't_learner', tlearner: model.toBuffers() };
  throw new TypeError('modelToBuffers: unknown model class');
}

export function modelFromBuffers(b: ModelBuffers): FittedModel {
  return b.family === 'uplift_rf' ? UpliftForest.fromBuffers(b.forest) : TLearnerModel.fromBuffers(b.tlearner);
}

/**
 * The mean of several fitted models: predict = mean of the members' predictions (summed in member
 * order); importance = mean of the members' importances, each first normalised to sum 1 (gain scales
 * differ between families).
 */
export class AveragedModel implements FittedModel {
  constructor(readonly members: FittedModel[]) {
    if (members.length === 0) throw new RangeError('AveragedModel: no members');
  }

  predict(data: BinnedDataset, rows?: Uint32Array): Float64Array {
    const out = this.members[0].predict(data, rows);
    for (let m = 1; m < this.members.length; m++) {
      const p = this.members[m].predict(data, rows);
      for (let i = 0; i < out.length; i++) out[i] += p[i];
    }
    const inv = 1 / this.members.length;
    for (let i = 0; i < out.length; i++) out[i] *= inv;
    return out;
  }

  importance(): Float64Array {
    let out: Float64Array | null = null;
    for (const m of this.members) {
      const imp = m.importance();
      let total = 0;
      for (let j = 0; j < imp.length; j++) total += imp[j] > 0 ? imp[j] : 0;
      if (!out) out = new Float64Array(imp.length);
      if (total > 0) for (let j = 0; j < imp.length; j++) out[j] += (imp[j] > 0 ? imp[j] : 0) / total / this.members.length;
    }
    return out as Float64Array;
  }
}

/** Hyper-parameters of a configuration as a flat record (family and criterion excluded). */
export function hyperparameters(config: ModelConfig): Record<string, number | string> {
  if (config.family === 'uplift_rf') {
    const h: Record<string, number | string> = {
      n_trees: config.nTrees,
      max_depth: config.maxDepth,
      min_samples_leaf: config.minSamplesLeaf,
      min_samples_treatment: config.minSamplesTreatment,
      n_reg: config.nReg,
      max_features: config.maxFeatures,
      sample_fraction: config.sampleFraction,
    };
    // Optional ForestConfig fields: reported only when set.
    const extra = config as { honest?: boolean; maxThresholds?: number };
    if (extra.honest !== undefined) h.honest = extra.honest ? 'true' : 'false';
    if (extra.maxThresholds !== undefined) h.max_thresholds = extra.maxThresholds;
    return h;
  }
  return {
    n_iter: config.nIter,
    learning_rate: config.learningRate,
    max_depth: config.maxDepth,
    min_samples_leaf: config.minSamplesLeaf,
    l2: config.l2,
  };
}

/** Short readable label, e.g. "uplift_rf KL depth=6 trees=60 leaf=100 ...". */
export function describeConfig(config: ModelConfig): string {
  if (config.family === 'uplift_rf') {
    const extra = config as { honest?: boolean; maxThresholds?: number };
    return (
      `uplift_rf ${config.criterion} depth=${config.maxDepth} trees=${config.nTrees} ` +
      `min_leaf=${config.minSamplesLeaf} min_treatment=${config.minSamplesTreatment} n_reg=${config.nReg} ` +
      `max_features=${config.maxFeatures} sample=${config.sampleFraction}` +
      (extra.honest ? ' honest' : '') +
      (extra.maxThresholds !== undefined ? ` thresholds=${extra.maxThresholds}` : '')
    );
  }
  return (
    `t_learner gbm iter=${config.nIter} lr=${config.learningRate} depth=${config.maxDepth} ` +
    `min_leaf=${config.minSamplesLeaf} l2=${config.l2}`
  );
}
