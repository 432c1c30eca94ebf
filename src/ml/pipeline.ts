/**
 * The uplift pipeline as pure steps, so a caller can run them in sequence (runPipeline) or spread the
 * cross-validation tasks and the final forest's tree ranges over a worker pool. Every random choice is
 * seeded from options.seed through deriveSeed, keyed by what the task is (never by which worker runs
 * it), so the scores are byte-identical however the steps are distributed:
 *   folds:               deriveSeed(seed, FOLD_SEED_KEY)           (stratifiedFolds)
 *   CV task (config i, fold f): deriveSeed(seed, i, f)             (i = index in the grid)
 *   final fit:           deriveSeed(seed, FINAL_SEED_KEY)          (tree k of a forest: its own stream;
 *                        a final forest has max(FINAL_MIN_TREES, the configuration's) trees)
 *
 * Steps:
 *   prepare(raw, options)                          -> { data, folds, grid, options }
 *   cvTask(data, folds, grid[i], i, f, seed)       -> predictions for fold f's test rows (ascending row order)
 *   cvFit(...)                                     -> cvTask's predictions + (forest) held-out split importance
 *   select(data, folds, grid, preds[i][f], imps?)  -> { bestIndex, members, cv, oof, memberImportance }
 *        (highest mean fold Qini over the grid plus, for "auto", the blend of the best forest and the best
 *         T-learner; ties -> lower index)
 *   finalFit(data, grid[m], seed, treeRange?)      -> FittedModel for each m in members (forest tree-range
 *        parts merged with mergeModelParts), then combineMembers(models) (one model, or their mean)
 *   randomization(prepared)                        -> RandomizationCheck (3 small GBM fits; independent of the
 *        CV results, so a pool can run it in parallel with the CV tasks)
 *   finish(prepared, selection, model, trainMs, randomization?)
 *                                                  -> PipelineOutput: the SPEC result + calibration + the
 *        issue-4 blocks (evaluation, warnings); computes the randomization check itself when not given
 */
import type {
  BinnedDataset,
  CvEntry,
  FittedModel,
  ModelConfig,
  PipelineOptions,
  PipelineResult,
  RawDataset,
} from './types.js';
import { createRng, deriveSeed } from './rng.js';
import { encode, type EncodeOptions } from './data/encode.js';
import { stratifiedFolds, foldRows, DEFAULT_FOLDS } from './eval/folds.js';
import { qiniAucScoreOfRows } from './eval/qini.js';
import { summarize, conversionRates } from './eval/summary.js';
import { interpret } from './eval/interpret.js';
import { ateWithInterval, crossFitHeterogeneityTest, crossFitRawPValue, withCandidates, type CrossFitHeterogeneityResult } from './eval/stats.js';
import { buildEvaluation, randomizationCheck, type Evaluation, type RandomizationCheck, type Warning } from './eval/trust.js';
import { AveragedModel, describeConfig, fitModel, gridFor, hyperparameters, mergeModelParts } from './models.js';
import { UpliftForest } from './forest/forest.js';
import type { FlatTree } from './tree/flat.js';
import { heldOutSplitImportance, normalizeImportance } from './eval/importance.js';

/** Seed used when the request gives none. */
export const DEFAULT_SEED = 20240611;
export const FOLD_SEED_KEY = 0x0f01d5;
export const FINAL_SEED_KEY = 0x0f17a1;

export interface PipelineInput {
  model?: PipelineOptions['model'];
  seed?: number;
  contamination?: number;
  /** Encoding options (defaults of encode.ts: 255 value bins, levels with < 100 rows pooled). */
  encode?: EncodeOptions;
  /** Out-of-fold slope calibration of the final scores (see `calibrateScores`); default true. */
  calibrate?: boolean;
  /** The final (all-rows) forest grows at least this many trees (CV fits use the configuration's); default FINAL_MIN_TREES. */
  finalMinTrees?: number;
}

/**
 * Minimum tree count of the final (all-rows) forest; CV fits use the configuration's own count. More
 * trees only lower a forest's variance, and the final fit is one fit against (configurations x 3) in
 * CV. Measured (bench/accuracy.mjs --seed 7, 50 000 rows, a 50-tree grid): lowsignal Spearman
 * 0.714 -> 0.747 and persuadables 0.834 -> 0.839 with 150 final trees instead of 50.
 */
export const FINAL_MIN_TREES = 150;

/** Fills defaults: model "auto", seed DEFAULT_SEED, contamination 0. */
export function resolveOptions(opts: PipelineInput = {}): PipelineOptions {
  const seed = opts.seed === undefined || opts.seed === null ? DEFAULT_SEED : opts.seed;
  const contamination = opts.contamination ?? 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError('seed must be an integer');
  if (!(contamination >= 0 && contamination < 1)) throw new RangeError('contamination must be in [0, 1)');
  return { model: opts.model ?? 'auto', seed, contamination };
}

export interface Prepared {
  data: BinnedDataset;
  folds: Uint8Array;
  grid: ModelConfig[];
  options: PipelineOptions;
  calibrate: boolean;
  finalMinTrees: number;
}

export function prepare(raw: RawDataset, opts: PipelineInput = {}): Prepared {
  const options = resolveOptions(opts);
  const data = encode(raw, opts.encode);
  const folds = stratifiedFolds(data.treatment, data.outcome, deriveSeed(options.seed, FOLD_SEED_KEY), DEFAULT_FOLDS);
  const finalMinTrees = opts.finalMinTrees ?? FINAL_MIN_TREES;
  if (!(Number.isInteger(finalMinTrees) && finalMinTrees >= 0)) throw new RangeError('finalMinTrees must be an integer >= 0');
  return { data, folds, grid: gridFor(options.model), options, calibrate: opts.calibrate ?? true, finalMinTrees };
}

export function cvTaskSeed(seed: number, configIndex: number, fold: number): number {
  return deriveSeed(seed, configIndex, fold);
}

/**
 * Cross-validation fits train on at most this many rows (issue 5): on very large campaigns a seeded
 * sample of the fold's training rows, stratified by treatment x outcome and the same for every
 * configuration of that fold. The held-out fold is still predicted in full, so out-of-fold scores, the
 * Qini of model selection and the out-of-fold evaluation cover every row, and the final model is fitted
 * on all rows. No effect below 150 000 rows (3 folds: 100 000 training rows). Measured in docs/performance.md.
 */
export const CV_MAX_TRAIN_ROWS = 100_000;
export const CV_SAMPLE_SEED_KEY = 0x0c5a3b;

/**
 * At most `max` of `train` (ascending row indices), returned ascending: per stratum 2 t + y,
 * floor(max * stratum count / train.length) rows picked by a partial Fisher-Yates shuffle with
 * createRng(seed). `train` itself when it has at most `max` rows.
 */
export function capTrainRows(train: Uint32Array, t: Uint8Array, y: Uint8Array, max: number, seed: number): Uint32Array {
  const n = train.length;
  if (!(max > 0) || n <= max) return train;
  const counts = new Int32Array(4);
  for (let j = 0; j < n; j++) counts[t[train[j]] * 2 + y[train[j]]]++;
  const start = new Int32Array(5);
  for (let s = 0; s < 4; s++) start[s + 1] = start[s] + counts[s];
  // positions in `train`, grouped by stratum (ascending within each)
  const members = new Uint32Array(n);
  const fill = start.slice(0, 4);
  for (let j = 0; j < n; j++) members[fill[t[train[j]] * 2 + y[train[j]]]++] = j;
  const keep = new Uint8Array(n);
  const rng = createRng(seed);
  let total = 0;
  for (let s = 0; s < 4; s++) {
    const a = start[s];
    const m = counts[s];
    const q = Math.floor((max * m) / n);
    for (let j = 0; j < q; j++) {
      const r = j + rng.int(m - j);
      const tmp = members[a + j];
      members[a + j] = members[a + r];
      members[a + r] = tmp;
      keep[members[a + j]] = 1;
    }
    total += q;
  }
  const out = new Uint32Array(total);
  let o = 0;
  for (let j = 0; j < n; j++) if (keep[j]) out[o++] = train[j];
  return out;
}

/** The rows a CV fit of fold `fold` trains on and predicts (capTrainRows applied to the training rows). */
export function cvFoldRows(data: BinnedDataset, folds: Uint8Array, fold: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  const { train, test } = foldRows(folds, fold);
  return { train: capTrainRows(train, data.treatment, data.outcome, CV_MAX_TRAIN_ROWS, deriveSeed(seed, CV_SAMPLE_SEED_KEY, fold)), test };
}

/**
 * Fits grid configuration `configIndex` on the rows outside fold `fold` and returns its predictions
 * (uncorrected p_t - p_c) for the fold's rows, in ascending row order.
 */
export function cvTask(
  data: BinnedDataset,
  folds: Uint8Array,
  config: ModelConfig,
  configIndex: number,
  fold: number,
  seed: number,
): Float64Array {
  const { train, test } = cvFoldRows(data, folds, fold, seed);
  const model = fitModel(data, train, config, cvTaskSeed(seed, configIndex, fold));
  return model.predict(data, test);
}

/** A CV fit's held-out predictions and its held-out split importance (eval/importance.ts). */
export interface CvFit {
  preds: Float64Array;
  /** Per feature, the summed held-out gain of the fit's splits on the fold's test rows; null if unavailable. */
  importance: Float64Array | null;
}

/**
 * The trees whose splits feature_importance scores out of fold: a forest's (its in-sample gain put
 * noise_* at 5-7 % each, above real drivers, on persuadables). A T-learner keeps its strongly
 * regularised classifiers' own gain: measured on persuadables (20 000 rows, --model t_learner, seeds
 * 7000-7003 and 9100-9107), age, email_opens_90d and discount_affinity all strictly above every noise_*
 * feature in 9 of 12 runs with that gain and in 8 of 12 with its GBM splits scored out of fold.
 */
export function splitTrees(model: FittedModel): readonly FlatTree[] | null {
  return model instanceof UpliftForest ? model.treeList : null;
}

/**
 * Feature importance of a CV fit is scored with its first IMPORTANCE_MAX_TREES trees' splits (the
 * ensemble's predictions still come from all trees) on at most IMPORTANCE_MAX_ROWS of its held-out rows
 * (a seeded stratified sample; no effect below 90 000 rows). Scoring passes every scored row through
 * every scored tree; with all 100 trees and rows it cost 40-50 % of the fit itself. Measured on
 * persuadables (20 000 rows, seeds 425407-425416, bench/trust-lab.mjs --importance-compare): 25 trees
 * gave the same result as 100 (main drivers strictly above every noise feature in 6 of 10 runs either
 * way, largest noise share 0.9 % vs 1.0 %); one 200 000-row forest fold fit: +7 to 17 % time with 25
 * trees and 50 000 rows (before the cap was lowered to 30 000).
 */
export const IMPORTANCE_MAX_TREES = 25;
export const IMPORTANCE_MAX_ROWS = 30_000;
export const IMPORTANCE_SEED_KEY = 0x1a9f07;

/**
 * cvTask plus the held-out split importance of the fitted model's trees on the fold's test rows (rows
 * the fit never saw), with the fit's own predictions: what `feature_importance` reports (see finish).
 */
export function cvFit(
  data: BinnedDataset,
  folds: Uint8Array,
  config: ModelConfig,
  configIndex: number,
  fold: number,
  seed: number,
): CvFit {
  const { train, test } = cvFoldRows(data, folds, fold, seed);
  const model = fitModel(data, train, config, cvTaskSeed(seed, configIndex, fold));
  const preds = model.predict(data, test);
  return { preds, importance: cvFitImportance(data, folds, fold, seed, model, preds) };
}

/**
 * The held-out split importance of a CV fit (the `importance` of cvFit): `model` fitted for fold `fold`
 * (cvFoldRows(data, folds, fold, seed).train), `preds` its predictions of the fold's test rows (ascending
 * row order). Splits of its first IMPORTANCE_MAX_TREES trees, on at most IMPORTANCE_MAX_ROWS test rows.
 * Null when the model's splits are not scored (splitTrees). A pool may call this in a later task with
 * the same model and predictions and gets the same numbers.
 */
export function cvFitImportance(
  data: BinnedDataset,
  folds: Uint8Array,
  fold: number,
  seed: number,
  model: FittedModel,
  preds: Float64Array,
): Float64Array | null {
  const trees = splitTrees(model);
  if (!trees) return null;
  const { test } = foldRows(folds, fold);
  if (preds.length !== test.length) throw new RangeError('cvFitImportance: one prediction per test row expected');
  // a seeded stratified sample of the held-out rows above IMPORTANCE_MAX_ROWS
  const rows = capTrainRows(test, data.treatment, data.outcome, IMPORTANCE_MAX_ROWS, deriveSeed(seed, IMPORTANCE_SEED_KEY, fold));
  let p = preds;
  if (rows !== test) {
    p = new Float64Array(rows.length);
    for (let a = 0, b = 0; a < rows.length; a++) {
      while (test[b] !== rows[a]) b++; // both ascending; rows is a subset of test
      p[a] = preds[b];
    }
  }
  const scored = trees.length > IMPORTANCE_MAX_TREES ? trees.slice(0, IMPORTANCE_MAX_TREES) : trees;
  return heldOutSplitImportance(scored, data, rows, p);
}

export interface Selection {
  /** Index of the chosen candidate in `cv` (grid configurations first, then the blend if any). */
  bestIndex: number;
  /** Grid indices of the configurations to refit on all rows; their predictions are averaged. */
  members: number[];
  cv: CvEntry[];
  /** Out-of-fold predictions of the chosen candidate, per row. */
  oof: Float64Array;
  /**
   * Per member (same order as `members`): the held-out split importance summed over its CV fits, or null
   * (T-learner, or importances not given to select). finish() reports it instead of the final model's.
   */
  memberImportance: (Float64Array | null)[];
  /**
   * Per candidate (model.cv order): the unadjusted out-of-fold heterogeneity p-value (crossFitRawPValue);
   * finish() tests heterogeneity over all of them (stats.ts withCandidates). Optional for older callers.
   */
  candidateP?: number[];
}

/** Number of folds present in `folds` (max id + 1). */
function foldCount(folds: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < folds.length; i++) if (folds[i] + 1 > k) k = folds[i] + 1;
  return k;
}

/** Label of the blend candidate in model.cv. */
export function blendLabel(grid: ModelConfig[], members: number[]): string {
  return `blend mean(${members.map((i) => describeConfig(grid[i])).join(' | ')})`;
}

/**
 * Scores every configuration by the mean of its per-fold Qini coefficients (scikit-uplift's
 * qini_auc_score(negative_effect=True) on each fold's test rows). When the grid holds both families
 * ("auto"), one more candidate is scored at no extra fitting cost: the blend of the best forest and the
 * best T-learner (each the highest mean Qini of its family, ties -> lower index), whose fold predictions
 * are the mean of theirs. The highest mean Qini wins; ties and NaN (a fold whose Qini is undefined makes
 * the mean NaN, which never wins) go to the lower index, so the blend must strictly beat every single
 * configuration. cvPredictions[i][f] = cvTask(..., grid[i], i, f, ...).
 */
export function select(
  data: BinnedDataset,
  folds: Uint8Array,
  grid: ModelConfig[],
  cvPredictions: Float64Array[][],
  cvImportances?: (Float64Array | null | undefined)[][],
): Selection {
  const k = foldCount(folds);
  const tests = Array.from({ length: k }, (_, f) => foldRows(folds, f).test);
  const foldQini = (preds: Float64Array[]): number[] =>
    tests.map((rows, f) => qiniAucScoreOfRows(data.outcome, data.treatment, rows, preds[f]));
  const cv: CvEntry[] = grid.map((config, i) => {
    const preds = tests.map((rows, f) => {
      const p = cvPredictions[i]?.[f];
      if (!p || p.length !== rows.length) throw new RangeError(`select: missing predictions for config ${i} fold ${f}`);
      return p;
    });
    const fold_qini = foldQini(preds);
    return { config: describeConfig(config), mean_qini: fold_qini.reduce((a, b) => a + b, 0) / k, fold_qini };
  });
  const bestOf = (family: ModelConfig['family']): number => {
    let best = -1;
    for (let i = 0; i < grid.length; i++) {
      if (grid[i].family !== family) continue;
      if (best < 0 || cv[i].mean_qini > cv[best].mean_qini || (Number.isNaN(cv[best].mean_qini) && !Number.isNaN(cv[i].mean_qini))) best = i;
    }
    return best;
  };
  const candidates: { members: number[]; preds: Float64Array[] }[] = grid.map((_, i) => ({
    members: [i],
    preds: cvPredictions[i],
  }));
  const bf = bestOf('uplift_rf');
  const bt = bestOf('t_learner');
  if (bf >= 0 && bt >= 0) {
    const preds = tests.map((rows, f) => {
      const a = cvPredictions[bf][f];
      const b = cvPredictions[bt][f];
      const out = new Float64Array(rows.length);
      for (let j = 0; j < rows.length; j++) out[j] = (a[j] + b[j]) / 2;
      return out;
    });
    const fold_qini = foldQini(preds);
    cv.push({ config: blendLabel(grid, [bf, bt]), mean_qini: fold_qini.reduce((a, b) => a + b, 0) / k, fold_qini });
    candidates.push({ members: [bf, bt], preds });
  }
  let bestIndex = 0;
  let bestMean = -Infinity;
  cv.forEach((c, i) => {
    if (c.mean_qini > bestMean) {
      bestMean = c.mean_qini;
      bestIndex = i;
    }
  });
  const chosen = candidates[bestIndex];
  const oof = new Float64Array(data.n);
  for (let f = 0; f < k; f++) {
    const rows = tests[f];
    const p = chosen.preds[f];
    for (let j = 0; j < rows.length; j++) oof[rows[j]] = p[j];
  }
  // Held-out split importance of each chosen member, summed over its k CV fits (null when missing).
  const memberImportance = chosen.members.map((m) => {
    const parts = cvImportances?.[m];
    if (!parts) return null;
    const sum = new Float64Array(data.features.length);
    for (let f = 0; f < k; f++) {
      const imp = parts[f];
      if (!imp || imp.length !== sum.length) return null;
      for (let j = 0; j < imp.length; j++) sum[j] += imp[j];
    }
    return sum;
  });
  // Every candidate's out-of-fold heterogeneity p-value (only its scores are needed, so here, once).
  const candOof = new Float64Array(data.n);
  const candidateP = candidates.map((c) => {
    for (let f = 0; f < k; f++) {
      const rows = tests[f];
      const p = c.preds[f];
      for (let j = 0; j < rows.length; j++) candOof[rows[j]] = p[j];
    }
    return crossFitRawPValue(data.treatment, data.outcome, candOof);
  });
  return { bestIndex, members: chosen.members, cv, oof, memberImportance, candidateP };
}

export function finalSeed(seed: number): number {
  return deriveSeed(seed, FINAL_SEED_KEY);
}

/** Fits the chosen configuration on all rows (or only trees [from, to) of a forest). */
export function finalFit(
  data: BinnedDataset,
  config: ModelConfig,
  seed: number,
  treeRange?: [number, number],
): FittedModel {
  const all = new Uint32Array(data.n);
  for (let i = 0; i < data.n; i++) all[i] = i;
  return fitModel(data, all, config, finalSeed(seed), treeRange);
}

export { mergeModelParts };

/** The configuration refitted on all rows for grid member `m`: a forest gets max(finalMinTrees, nTrees) trees. */
export function finalConfig(prepared: Prepared, m: number): ModelConfig {
  const c = prepared.grid[m];
  return c.family === 'uplift_rf' && c.nTrees < prepared.finalMinTrees ? { ...c, nTrees: prepared.finalMinTrees } : c;
}

/** The final model from the fitted members (grid order of selection.members): one, or their mean. */
export function combineMembers(models: FittedModel[]): FittedModel {
  return models.length === 1 ? models[0] : new AveragedModel(models);
}

/** A blend's hyper-parameters: each member's, prefixed by its family, plus the weights. */
export function blendHyperparameters(members: ModelConfig[]): Record<string, number | string> {
  const h: Record<string, number | string> = {};
  for (const m of members) {
    if (m.family === 'uplift_rf') h['uplift_rf.criterion'] = m.criterion;
    for (const [key, v] of Object.entries(hyperparameters(m))) h[`${m.family}.${key}`] = v;
  }
  h.weights = members.map(() => (1 / members.length).toString()).join(',');
  return h;
}

/**
 * Gain-based importance normalised to sum 1, descending (ties by feature order); all 0 if no gain.
 * Per member of the final model: its held-out split importance from the CV fits when `heldOut` has one
 * (forests: eval/importance.ts, splits judged on rows the fit never saw), otherwise the member's own
 * gain importance (T-learner: log-loss reductions of its classifiers); a blend averages its members'
 * normalised importances.
 */
export function featureImportance(
  data: BinnedDataset,
  model: FittedModel,
  heldOut: (Float64Array | null)[] = [],
): { feature: string; importance: number }[] {
  const members = model instanceof AveragedModel ? model.members : [model];
  const combined = new Float64Array(data.features.length);
  for (let m = 0; m < members.length; m++) {
    const h = heldOut[m];
    const part = normalizeImportance(h && h.length === combined.length ? h : members[m].importance());
    for (let j = 0; j < combined.length; j++) combined[j] += part[j] / members.length;
  }
  const raw = normalizeImportance(combined);
  const rows = data.features.map((f, j) => ({ feature: f.name, importance: raw[j], j }));
  rows.sort((a, b) => b.importance - a.importance || a.j - b.j);
  return rows.map(({ feature, importance }) => ({ feature, importance }));
}

/** Bounds of the calibration slope actually applied, and the one-sided z of its lower confidence bound. */
export const CALIBRATION_MIN_SLOPE = 0.05;
export const CALIBRATION_MAX_SLOPE = 1;
export const CALIBRATION_Z = 1.6448536269514722; // one-sided 95 %

export interface Calibration {
  /** False when options.calibrate was false (scores = the model's raw differences). */
  applied: boolean;
  /** The out-of-fold BLP test (crossFitHeterogeneityTest, Bonferroni over the number of CV candidates). */
  test: CrossFitHeterogeneityResult;
  /**
   * Slope used: when test.significant, (test.slope - 1.645 * test.slope_se) clipped to
   * [CALIBRATION_MIN_SLOPE, CALIBRATION_MAX_SLOPE]; otherwise CALIBRATION_MIN_SLOPE; 1 when not applied.
   */
  slope: number;
  /** Observed treatment - control conversion difference (before the contamination correction). */
  center: number;
}

/**
 * Out-of-fold calibration of the final model's scores to the best linear predictor of the uplift
 * given the score (Chernozhukov, Demirer, Duflo & Fernandez-Val, "Generic machine learning inference
 * on heterogeneous treatment effects"): E[tau | S] = ATE + beta (S - mean S). beta is estimated on the
 * OUT-OF-FOLD scores of the chosen candidate (rows no model saw) by crossFitHeterogeneityTest of
 * eval/stats.ts: beta from the pooled regression of Y on [1, S, T - p, (T - p)(S - mean S)]
 * (p = share treated), se(beta) and the p-value as that function defines them for cross-fitted scores
 * (Bonferroni-adjusted for the number of candidates selection chose from). The final scores are
 *     score_i = (cr_t - cr_c) + b * (raw_i - mean(raw)),
 *     b = clip(beta - 1.645 * se(beta), 0.05, 1)   when the test is significant (p < 0.05),
 *     b = 0.05                                      otherwise,
 * i.e. the model's spread is kept only as far as the out-of-fold evidence supports it. The ranking
 * (hence deciles, Qini, gain shares) is unchanged; a model whose out-of-fold scores carry no real
 * signal (e.g. a campaign with a uniform effect) is shrunk toward the average effect instead of
 * reporting invented heterogeneity. b is never above 1 (scores are never stretched) and never below
 * 0.05 (the ranking is always kept). The same test drives the "effect looks uniform" sentence.
 */
export function calibrateScores(
  data: BinnedDataset,
  oof: Float64Array,
  folds: Uint8Array,
  candidates: number,
  raw: Float64Array,
  apply: boolean,
  candidateP?: readonly number[],
): { scores: Float64Array; calibration: Calibration } {
  const chosenTest = crossFitHeterogeneityTest(data.treatment, data.outcome, oof, folds, candidates);
  const test = candidateP && candidateP.length === candidates ? withCandidates(chosenTest, candidateP) : chosenTest;
  const rates = conversionRates(data.treatment, data.outcome);
  const center = rates.treatment_cr - rates.control_cr;
  const lcb =
    test.slope === null || test.slope_se === null || !test.significant
      ? NaN
      : test.slope - CALIBRATION_Z * test.slope_se;
  const slope = Number.isFinite(lcb)
    ? Math.min(CALIBRATION_MAX_SLOPE, Math.max(CALIBRATION_MIN_SLOPE, lcb))
    : CALIBRATION_MIN_SLOPE;
  if (!apply) return { scores: raw, calibration: { applied: false, test, slope: 1, center } };
  let mean = 0;
  for (let i = 0; i < raw.length; i++) mean += raw[i];
  mean /= raw.length || 1;
  const scores = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) scores[i] = center + slope * (raw[i] - mean);
  return { scores, calibration: { applied: true, test, slope, center } };
}

/** PipelineResult plus how the scores were calibrated, which model.cv entry was chosen, and the issue-4 blocks. */
export type PipelineOutput = PipelineResult & {
  calibration: Calibration;
  chosen: number;
  /** Out-of-fold evaluation of the chosen candidate (docs/evaluation.md); already rounded. */
  evaluation: Evaluation;
  warnings: Warning[];
};

/**
 * The randomization check of a prepared request (eval/trust.ts randomizationCheck: a treatment classifier
 * per fold, out-of-fold AUC). It needs only the data and the folds, so it can run in parallel with the CV
 * tasks; finish() computes it itself when it is not handed one. Seeded from options.seed (keys 0x7a11, fold).
 */
export function randomization(prepared: Prepared): RandomizationCheck {
  return randomizationCheck(prepared.data, prepared.folds, prepared.options.seed);
}

/** Scores every row with the final model and builds the result (plus the out-of-fold evaluation). */
export function finish(
  prepared: Prepared,
  selection: Selection,
  model: FittedModel,
  trainMs: number,
  randomizationResult?: RandomizationCheck,
  rawScores?: Float64Array,
): PipelineOutput {
  const { data, folds, options } = prepared;
  // rawScores: model.predict(data) computed elsewhere (the pool scores row ranges in parallel; a row's
  // prediction does not depend on which other rows are predicted with it, so the floats are identical).
  if (rawScores && rawScores.length !== data.n) throw new RangeError('finish: rawScores must have one value per row');
  const members = selection.members.map((i) => finalConfig(prepared, i));
  const config = members[0];
  const { scores: raw, calibration } = calibrateScores(
    data,
    selection.oof,
    folds,
    selection.cv.length,
    rawScores ?? model.predict(data),
    prepared.calibrate,
    selection.candidateP,
  );
  const s = summarize(data.treatment, data.outcome, raw, options.contamination);
  const ate = ateWithInterval(data.treatment, data.outcome, options.contamination);
  // One heterogeneity test drives the calibration, evaluation.heterogeneity, the NO_HETEROGENEITY warning
  // and the "effect looks uniform" sentence, so they always agree.
  const { evaluation, warnings } = buildEvaluation({
    t: data.treatment,
    y: data.outcome,
    oof: selection.oof,
    folds,
    data,
    contamination: options.contamination,
    seed: options.seed,
    report: data.report,
    candidates: selection.cv.length,
    heterogeneity: calibration.test,
    randomization: randomizationResult ?? randomization(prepared),
  });
  return {
    n: data.n,
    average_treatment_effect: s.average_treatment_effect,
    treatment_cr: s.treatment_cr,
    control_cr: s.control_cr,
    scores: s.scores,
    deciles: s.deciles,
    decile_summary: s.decile_summary,
    interpretation: interpret({ ...s, ate_ci95: ate.ci95, uniform: !calibration.test.significant }),
    model: {
      type: members.length === 1 ? config.family : 'blend',
      criterion: config.family === 'uplift_rf' ? config.criterion : null,
      hyperparameters: members.length === 1 ? hyperparameters(config) : blendHyperparameters(members),
      seed: options.seed,
      cv: selection.cv,
      train_ms: trainMs,
      calibration: {
        applied: calibration.applied,
        slope: calibration.slope,
        center: calibration.center,
        method: CALIBRATION_METHOD,
      },
    },
    oof: selection.oof,
    folds,
    feature_importance: featureImportance(data, model, selection.memberImportance ?? []),
    report: data.report,
    calibration,
    chosen: selection.bestIndex,
    evaluation,
    warnings,
  };
}

/** model.calibration.method: what `slope` and `center` mean (docs/engine.md section 7.2). */
export const CALIBRATION_METHOD =
  'score = center + slope * (raw - mean raw); slope = lower 95% bound of the out-of-fold BLP slope clipped to [0.05, 1] if significant, else 0.05';

function defaultClock(): number {
  return globalThis.performance.now();
}

/** One cross-validation fit: configuration `configIndex` of the grid, held-out fold `fold`. */
export interface CvTaskSpec {
  configIndex: number;
  fold: number;
}

/** Every CV task of a prepared request (configuration-major order); results go to preds[configIndex][fold]. */
export function cvTaskList(prepared: Prepared): CvTaskSpec[] {
  const k = foldCount(prepared.folds);
  const out: CvTaskSpec[] = [];
  for (let i = 0; i < prepared.grid.length; i++) for (let f = 0; f < k; f++) out.push({ configIndex: i, fold: f });
  return out;
}

/** One final-fit task: grid member `member` fitted as `config` (finalConfig), for a forest trees [from, to). */
export interface FinalTaskSpec {
  member: number;
  config: ModelConfig;
  treeRange?: [number, number];
}

/**
 * The final fits of a selection, each forest member split into at most `forestParts` (>= 1) contiguous
 * tree ranges of near-equal size, each task with its range (T-learners are one task, no range). Run each with
 * finalFit(data, task.config, seed, task.treeRange) and hand the models, in task order, to
 * assembleFinal. Any split gives the same final model.
 */
export function finalTaskList(prepared: Prepared, selection: Selection, forestParts = 1): FinalTaskSpec[] {
  const out: FinalTaskSpec[] = [];
  for (const m of selection.members) {
    const config = finalConfig(prepared, m);
    if (config.family !== 'uplift_rf') {
      out.push({ member: m, config });
      continue;
    }
    // Forest tasks always carry their tree range (also when unsplit), so a fit of the grid
    // configuration with that range grows exactly the final forest's trees.
    const parts = Math.max(1, Math.min(Math.floor(forestParts), config.nTrees));
    for (let p = 0; p < parts; p++) {
      const from = Math.floor((p * config.nTrees) / parts);
      const to = Math.floor(((p + 1) * config.nTrees) / parts);
      if (to > from) out.push({ member: m, config, treeRange: [from, to] });
    }
  }
  return out;
}

/** Merges the models of finalTaskList's tasks (same order) into the final model. */
export function assembleFinal(selection: Selection, tasks: FinalTaskSpec[], models: FittedModel[]): FittedModel {
  if (tasks.length !== models.length) throw new RangeError('assembleFinal: one model per task expected');
  const byMember = selection.members.map((m) => {
    const parts = models.filter((_, j) => tasks[j].member === m);
    if (parts.length === 0) throw new RangeError(`assembleFinal: no model for member ${m}`);
    return mergeModelParts(parts);
  });
  return combineMembers(byMember);
}

/** All steps in sequence on one thread. `clock` (ms) is only used for model.train_ms. */
export function runPipeline(raw: RawDataset, opts: PipelineInput = {}, clock: () => number = defaultClock): PipelineOutput {
  const t0 = clock();
  const prepared = prepare(raw, opts);
  const { data, folds, grid, options } = prepared;
  const preds: Float64Array[][] = grid.map(() => []);
  const imps: (Float64Array | null)[][] = grid.map(() => []);
  for (const task of cvTaskList(prepared)) {
    const fit = cvFit(data, folds, grid[task.configIndex], task.configIndex, task.fold, options.seed);
    preds[task.configIndex][task.fold] = fit.preds;
    imps[task.configIndex][task.fold] = fit.importance;
  }
  const selection = select(data, folds, grid, preds, imps);
  const tasks = finalTaskList(prepared, selection);
  const model = assembleFinal(
    selection,
    tasks,
    tasks.map((task) => finalFit(data, task.config, options.seed, task.treeRange)),
  );
  const trainMs = clock() - t0;
  return finish(prepared, selection, model, trainMs, randomization(prepared));
}
