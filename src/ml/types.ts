/**
 * Data contracts of the ML core. Plain data and typed arrays only, so every value here can cross a
 * worker-thread boundary as (Shared)ArrayBuffers without structured-cloning row objects.
 */

/** A feature column as it arrives from the request, before binning. */
export type RawFeature =
  | {
      name: string;
      kind: 'numeric';
      /** One value per row; NaN = missing. */
      values: Float64Array;
    }
  | {
      name: string;
      kind: 'categorical';
      /** Distinct levels in order of first appearance (numbers in a mixed column become String(v)). */
      levels: string[];
      /** One code per row, index into `levels`; -1 = missing. */
      codes: Int32Array;
    };

/** The request's rows in column-major form. */
export interface RawDataset {
  n: number;
  /** 0/1 per row. */
  treatment: Uint8Array;
  /** 0/1 per row. */
  outcome: Uint8Array;
  features: RawFeature[];
}

/**
 * A binned feature. Bin 0 is always the missing bin (it may be empty). Numeric: bins 1..nBins-1 are
 * quantile intervals, value v goes to the first bin b>=1 with v <= upper[b-1] (last bin open-ended).
 * Categorical: bins 1..nBins-1 are kept levels, with one "other" bin for pooled rare/unseen levels.
 */
export interface BinnedFeature {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Total number of bins including the missing bin 0; at most 256. */
  nBins: number;
  /** One bin per row. */
  bins: Uint8Array;
  /** Numeric only: upper edges of bins 1..nBins-2 (length nBins-2); the last bin is open-ended. */
  upper?: Float64Array;
  /** Categorical only: label of each bin (index 0 = "(missing)"), including "(other)". */
  labels?: string[];
  /** Categorical only: the bin that pooled rare and unseen levels go to. */
  otherBin?: number;
}

export interface EncodeReport {
  /**
   * Features removed because their present values fall into at most one bin: a single distinct value,
   * all missing, or (categorical) every level rarer than `rareMin`, so pooling left one "(other)" bin.
   */
  droppedConstant: string[];
  /**
   * The subset of droppedConstant that had two or more distinct levels, all rarer than `rareMin` (a
   * warning must not call them constant). Absent in reports made before it existed: read as none.
   */
  droppedAllRare?: string[];
  /** The rare-level threshold the encoder used (rows per level), when it pooled or dropped by it. */
  rareMin?: number;
  /** Categorical features whose rare levels were pooled into "other": how many levels, how many rows. */
  pooled: { feature: string; levels: number; rows: number }[];
}

export interface BinnedDataset {
  n: number;
  treatment: Uint8Array;
  outcome: Uint8Array;
  features: BinnedFeature[];
  report: EncodeReport;
}

/** Anything that scores rows: returns P(y|t=1,x) - P(y|t=0,x) per requested row. */
export interface UpliftPredictor {
  predict(data: BinnedDataset, rows?: Uint32Array): Float64Array;
}

/** Split criterion of the uplift tree (causalml names: KL, ED, Chi). */
export type Criterion = 'KL' | 'ED' | 'Chi';

export interface ForestConfig {
  family: 'uplift_rf';
  criterion: Criterion;
  nTrees: number;
  maxDepth: number;
  minSamplesLeaf: number;
  minSamplesTreatment: number;
  /** causalml's n_reg: child rates shrunk toward the parent's with this many pseudo-rows. */
  nReg: number;
  /** Share of features tried at each node, (0, 1]. */
  maxFeatures: number;
  /** Bootstrap sample size as a share of the training rows. */
  sampleFraction: number;
  /**
   * Optional (default false). Honest trees: each tree takes about sampleFraction of the rows without
   * replacement (each row independently), grows its structure on a random half of them and estimates
   * the leaf values on the other half.
   */
  honest?: boolean;
  /** Optional (default 64): numeric thresholds tried per feature and node, at node-local quantiles. */
  maxThresholds?: number;
  /** Optional (default unlimited): cap on the rows one tree samples (sampleFraction * n at most this). */
  maxTreeRows?: number;
}

export interface TLearnerConfig {
  family: 't_learner';
  nIter: number;
  learningRate: number;
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
}

export type ModelConfig = ForestConfig | TLearnerConfig;

/** A fitted model: scores rows and reports gain-based importance per feature (index = data.features). */
export interface FittedModel extends UpliftPredictor {
  importance(): Float64Array;
}

export type ModelChoice = 'auto' | 'uplift_rf' | 't_learner';

export interface PipelineOptions {
  model: ModelChoice;
  seed: number;
  /** Share of control rows exposed to the campaign, 0 <= c < 1. */
  contamination: number;
}

export interface DecileSummaryRow {
  decile: number;
  mean_uplift: number;
  n_customers: number;
}

export interface CvEntry {
  /** Short readable label of the configuration, e.g. "uplift_rf KL depth=6 trees=60". */
  config: string;
  mean_qini: number;
  fold_qini: number[];
}

export interface ModelReport {
  /** 'blend' = mean of the best forest and the best T-learner (options.model "auto" only). */
  type: 'uplift_rf' | 't_learner' | 'blend';
  /** The forest's criterion (also for a blend); null for a T-learner. */
  criterion: Criterion | null;
  hyperparameters: Record<string, number | string>;
  seed: number;
  cv: CvEntry[];
  train_ms: number;
  /**
   * Optional (set by the pipeline's finish step): how the returned scores were calibrated out of fold,
   * score = center + slope * (raw - mean raw) before the contamination correction (docs/engine.md 7.2).
   */
  calibration?: ModelCalibration;
}

export interface ModelCalibration {
  /** False when calibration was switched off (scores = the model's raw differences, slope 1). */
  applied: boolean;
  /** Factor applied to the model's raw spread around its mean, in [0.05, 1]. */
  slope: number;
  /** Treated minus control conversion rate (uncorrected): the calibrated scores' mean. */
  center: number;
  /** Plain description of the rule. */
  method: string;
}

/** Everything a response is built from. Scores are contamination-corrected, NOT yet rounded. */
export interface PipelineResult {
  n: number;
  average_treatment_effect: number;
  treatment_cr: number;
  control_cr: number;
  /** Per input row, in input order: corrected score in [-1, 1], unrounded. */
  scores: Float64Array;
  /** Per input row: decile 1..10 computed on the scores rounded to 4 decimals. */
  deciles: Uint8Array;
  decile_summary: DecileSummaryRow[];
  interpretation: string;
  model: ModelReport;
  /** Out-of-fold predictions of the chosen configuration, per input row (uncorrected). */
  oof: Float64Array;
  /** Fold id (0..2) per input row, used to produce `oof`. */
  folds: Uint8Array;
  feature_importance: { feature: string; importance: number }[];
  report: EncodeReport;
}
