/**
 * Histogram gradient-boosting binary classifier (log-loss), in the style of LightGBM (Ke et al. 2017)
 * and scikit-learn's HistGradientBoostingClassifier:
 *
 * - raw score F(x) = init + sum_t tree_t(x), init = log-odds of the training base rate;
 *   P(y=1|x) = sigmoid(F(x));
 * - per iteration: gradient g = p - y and hessian h = p(1-p) of the log-loss at the current scores;
 * - each tree is grown best-first (the open leaf with the largest gain splits next) up to `maxLeaves`
 *   leaves and `maxDepth` levels, on per-node gradient/hessian histograms over the uint8 bins (one flat
 *   Float64Array, see histogram.ts); the smaller child's histogram is built, the larger one is the
 *   parent's minus the smaller's;
 * - split gain with L2 (split.ts), min rows and min hessian per leaf, native categorical splits, the
 *   missing bin tried on both sides;
 * - leaf value = -G/(H + l2) (one Newton step), times the learning rate (stored already shrunk).
 * - boosting stops early when a tree finds no split with gain > minGain (under row or feature
 *   subsampling: three such trees in a row);
 * - optional per-tree row subsampling (Bernoulli, `subsample`, or a cap `maxTreeRows`) and feature
 *   subsampling (`colsample`),
 *   both drawn from the seeded rng (src/ml/rng.ts).
 *
 * Trees are stored as FlatTree (src/ml/tree/flat.ts).
 */
import type { BinnedDataset } from '../types.js';
import { createRng } from '../rng.js';
import { FlatTreeBuilder, WORDS_PER_SET, leafOf, type FlatTree } from '../tree/flat.js';
import { HIST_SLOTS, buildHistogram, featureOffsets, packRows, partitionStable, subtractHistogram } from './histogram.js';
import { SplitFinder, SplitResult, type SplitParams } from './split.js';

export interface GbmFitOptions {
  /**
   * Raw-score offset per data row (LightGBM's init_score): boosting starts from offset[r] + c, where
   * c is the best constant given the offsets (Newton steps). The model stores c as its initScore, and
   * its raw predictions EXCLUDE the offset: add it back when predicting.
   */
  offset?: Float64Array;
  /** If given (length data.n), receives the final raw training score (incl. offset) of every fitted row. */
  trainScores?: Float64Array;
  /** packRows(bins of data.features, data.n), when the caller already has it (saves one pass). */
  packed?: Uint8Array;
}

export interface GbmParams {
  /** Number of boosting iterations (trees). */
  nIter: number;
  learningRate: number;
  /** Maximum depth of a tree (root = depth 0). */
  maxDepth: number;
  /** Maximum leaves per tree; default 2^maxDepth. */
  maxLeaves?: number;
  /** Minimum rows in a leaf. */
  minSamplesLeaf: number;
  /** Minimum sum of hessians in a leaf (LightGBM min_sum_hessian_in_leaf); default 1e-3. */
  minHessianLeaf?: number;
  /** L2 regularisation of leaf values (lambda). */
  l2: number;
  /**
   * Minimum gain (loss reduction, in log-likelihood units) to split; default 0. For log-loss the gain of
   * a split is about half a chi-squared statistic, so this works as a significance threshold. Boosting
   * stops at the first tree without any admissible split.
   */
  minGain?: number;
  /** Smoothing added to the hessian when ordering categorical bins (LightGBM cat_smooth); default 10. */
  catSmooth?: number;
  /** Extra L2 in categorical split gains (LightGBM cat_l2); default 10. */
  catL2?: number;
  /** Categorical bins with fewer rows in the node are not ordered, they go right; default 10. */
  minDataPerGroup?: number;
  /**
   * Multiple-comparison penalty on split gains: a feature's best gain minus gainPenalty * ln(number of
   * partitions tried), see split.ts; default 0.
   */
  gainPenalty?: number;
  /** Extra penalty per additional group ordered in a categorical split (split.ts); default 0. */
  catGainPenalty?: number;
  /**
   * Cap on the rows each tree is grown on: with more training rows, every tree uses a Bernoulli sample
   * of about this many (like `subsample`, seeded). Bounds the cost per tree on very large data; default
   * none.
   */
  maxTreeRows?: number;
  /** Share of training rows sampled (without replacement, Bernoulli) per tree, (0, 1]; default 1. */
  subsample?: number;
  /** Share of features sampled per tree, (0, 1]; default 1. */
  colsample?: number;
}

/** Everything needed to rebuild a model, as plain numbers and typed arrays (transferable). */
export interface GbmBuffers {
  initScore: number;
  nFeatures: number;
  /** Node range of tree t: [nodeOffsets[t], nodeOffsets[t+1]); child indices are tree-local. */
  nodeOffsets: Int32Array;
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  leftSet: Uint32Array;
  importance: Float64Array;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export class GbmModel {
  /** Complete-binary-tree copies of the trees for prediction (built on first use; derived data). */
  private compiled: (CompiledTree | null)[] | null = null;

  constructor(
    readonly initScore: number,
    readonly trees: readonly FlatTree[],
    private readonly gains: Float64Array,
  ) {}

  get nTrees(): number {
    return this.trees.length;
  }

  /** Raw scores (log-odds) of the given rows (default: all rows), using the first `nTrees` trees. */
  predictRaw(data: BinnedDataset, rows?: Uint32Array, nTrees = this.trees.length): Float64Array {
    const m = rows ? rows.length : data.n;
    const out = new Float64Array(m).fill(this.initScore);
    const columns = data.features.map((f) => f.bins);
    const T = Math.min(nTrees, this.trees.length);
    if (this.compiled === null) this.compiled = this.trees.map(compileTree);
    for (let t = 0; t < T; t++) {
      const c = this.compiled[t];
      if (c) addCompiled(c, columns, out, rows);
      else addTree(this.trees[t], columns, out, rows);
    }
    return out;
  }

  /** P(label = 1) of the given rows (default: all rows), using the first `nTrees` trees. */
  predictProba(data: BinnedDataset, rows?: Uint32Array, nTrees = this.trees.length): Float64Array {
    const out = this.predictRaw(data, rows, nTrees);
    for (let i = 0; i < out.length; i++) out[i] = sigmoid(out[i]);
    return out;
  }

  /** Total split gain (loss reduction) per feature, index = data.features. A copy. */
  importance(): Float64Array {
    return this.gains.slice();
  }

  toBuffers(): GbmBuffers {
    const T = this.trees.length;
    const nodeOffsets = new Int32Array(T + 1);
    for (let t = 0; t < T; t++) nodeOffsets[t + 1] = nodeOffsets[t] + this.trees[t].feature.length;
    const total = nodeOffsets[T];
    const b: GbmBuffers = {
      initScore: this.initScore,
      nFeatures: this.gains.length,
      nodeOffsets,
      feature: new Int32Array(total),
      left: new Int32Array(total),
      right: new Int32Array(total),
      value: new Float64Array(total),
      leftSet: new Uint32Array(total * WORDS_PER_SET),
      importance: this.gains.slice(),
    };
    for (let t = 0; t < T; t++) {
      const tr = this.trees[t];
      const o = nodeOffsets[t];
      b.feature.set(tr.feature, o);
      b.left.set(tr.left, o);
      b.right.set(tr.right, o);
      b.value.set(tr.value, o);
      b.leftSet.set(tr.leftSet, o * WORDS_PER_SET);
    }
    return b;
  }

  static fromBuffers(b: GbmBuffers): GbmModel {
    const T = b.nodeOffsets.length - 1;
    const trees: FlatTree[] = [];
    for (let t = 0; t < T; t++) {
      const from = b.nodeOffsets[t];
      const to = b.nodeOffsets[t + 1];
      trees.push({
        feature: b.feature.subarray(from, to),
        left: b.left.subarray(from, to),
        right: b.right.subarray(from, to),
        value: b.value.subarray(from, to),
        leftSet: b.leftSet.subarray(from * WORDS_PER_SET, to * WORDS_PER_SET),
      });
    }
    return new GbmModel(b.initScore, trees, b.importance.slice());
  }
}

interface Resolved extends SplitParams {
  nIter: number;
  learningRate: number;
  maxDepth: number;
  maxLeaves: number;
  subsample: number;
  maxTreeRows: number;
  colsample: number;
}

function resolve(p: GbmParams): Resolved {
  const maxDepth = Math.max(1, Math.floor(p.maxDepth));
  const depthLeaves = maxDepth >= 16 ? 65536 : 1 << maxDepth;
  return {
    nIter: Math.max(0, Math.floor(p.nIter)),
    learningRate: p.learningRate,
    maxDepth,
    maxLeaves: Math.max(2, Math.min(p.maxLeaves ?? depthLeaves, depthLeaves)),
    minSamplesLeaf: Math.max(1, p.minSamplesLeaf),
    minHessianLeaf: p.minHessianLeaf ?? 1e-3,
    l2: Math.max(0, p.l2),
    minGain: p.minGain ?? 0,
    catSmooth: p.catSmooth ?? 10,
    catL2: p.catL2 ?? 10,
    minDataPerGroup: p.minDataPerGroup ?? 10,
    gainPenalty: Math.max(0, p.gainPenalty ?? 0),
    catGainPenalty: Math.max(0, p.catGainPenalty ?? 0),
    subsample: Math.min(1, Math.max(1e-6, p.subsample ?? 1)),
    maxTreeRows: p.maxTreeRows !== undefined && p.maxTreeRows > 0 ? p.maxTreeRows : Infinity,
    colsample: Math.min(1, Math.max(1e-6, p.colsample ?? 1)),
  };
}

/**
 * Fits the classifier on data rows `rows` (distinct indices into data) with 0/1 `labels` (indexed by
 * data row, like data.outcome). Deterministic for a given seed.
 */
export function fitGbmClassifier(
  data: BinnedDataset,
  rows: Uint32Array,
  labels: Uint8Array,
  params: GbmParams,
  seed: number,
  options: GbmFitOptions = {},
): GbmModel {
  const offset = options.offset;
  const m = rows.length;
  let pos = 0;
  for (let k = 0; k < m; k++) pos += labels[rows[k]];
  const rate = m > 0 ? Math.min(1 - 1e-6, Math.max(1e-6, pos / m)) : 0.5;
  const initScore = offset ? bestConstant(rows, labels, offset, Math.log(rate / (1 - rate))) : Math.log(rate / (1 - rate));
  if (pos === 0 || pos === m) return constantModel(data, rows, initScore, options);
  const gradients: GradientFn = (treeRows, count, score, g, h, sums) => logLossGradients(treeRows, count, score, labels, g, h, sums);
  return fitBoosted(data, rows, params, seed, options, initScore, gradients);
}

/**
 * Fits a regression GBM with the weighted squared loss 1/2 sum_r weight[r] (target[r] - F(x_r))^2 on
 * data rows `rows` (target and weight indexed by data row): gradient g = w (F - z), hessian h = w, leaf
 * values -G / (H + l2), initial score = the weighted mean of the target. Gains are in the loss's own
 * units, so minGain / gainPenalty mean "units of the weighted residual variance" only when the weights
 * are scaled by 1 / that variance. Predictions: predictRaw (identity link).
 */
export function fitGbmRegressor(
  data: BinnedDataset,
  rows: Uint32Array,
  target: Float64Array,
  weight: Float64Array,
  params: GbmParams,
  seed: number,
  options: GbmFitOptions = {},
): GbmModel {
  if (options.offset) throw new RangeError('fitGbmRegressor: offsets are not supported');
  let sw = 0;
  let swz = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    sw += weight[r];
    swz += weight[r] * target[r];
  }
  const initScore = sw > 0 ? swz / sw : 0;
  if (!(sw > 0)) return constantModel(data, rows, initScore, options);
  const gradients: GradientFn = (treeRows, count, score, g, h, sums) => squaredLossGradients(treeRows, count, score, target, weight, g, h, sums);
  return fitBoosted(data, rows, params, seed, options, initScore, gradients);
}

/** Gradients and hessians at the current scores for rows[0..count); sums[0] = sum g, sums[1] = sum h. */
type GradientFn = (rows: Uint32Array, count: number, score: Float64Array, g: Float64Array, h: Float64Array, sums: Float64Array) => void;

function constantModel(data: BinnedDataset, rows: Uint32Array, initScore: number, options: GbmFitOptions): GbmModel {
  const offset = options.offset;
  if (options.trainScores) for (let k = 0; k < rows.length; k++) options.trainScores[rows[k]] = initScore + (offset ? offset[rows[k]] : 0);
  return new GbmModel(initScore, [], new Float64Array(data.features.length));
}

/** The boosting loop shared by the classifier and the regressor; `gradients` defines the loss. */
function fitBoosted(
  data: BinnedDataset,
  rows: Uint32Array,
  params: GbmParams,
  seed: number,
  options: GbmFitOptions,
  initScore: number,
  gradients: GradientFn,
): GbmModel {
  const m = rows.length;
  const F = data.features.length;
  if (m === 0 || F === 0) return constantModel(data, rows, initScore, options);
  const p = resolve(params);
  const offset = options.offset;
  const columns = data.features.map((f) => f.bins);
  const nBins = Int32Array.from(data.features, (f) => f.nBins);
  const isCat = Uint8Array.from(data.features, (f) => (f.kind === 'categorical' ? 1 : 0));
  const { offsets, totalBins } = featureOffsets(nBins);
  const gains = new Float64Array(F);

  // Scratch, allocated once per fit.
  const maxLeaves = Math.min(p.maxLeaves, Math.max(2, Math.floor(m / p.minSamplesLeaf)));
  const histSize = totalBins * HIST_SLOTS;
  const hist = new Float64Array(maxLeaves * histSize);
  const score = new Float64Array(data.n);
  const g = new Float64Array(data.n);
  const h = new Float64Array(data.n);
  const packed = options.packed ?? packRows(columns, data.n);
  const treeRows = new Uint32Array(m);
  const scratchRows = new Uint32Array(m);
  const feats = new Int32Array(F);
  const fo = new Int32Array(F);
  const allFeats = Int32Array.from({ length: F }, (_, i) => i);
  const lBegin = new Int32Array(maxLeaves);
  const lCount = new Int32Array(maxLeaves);
  const lDepth = new Int32Array(maxLeaves);
  const lNode = new Int32Array(maxLeaves);
  const lG = new Float64Array(maxLeaves);
  const lH = new Float64Array(maxLeaves);
  const splits = Array.from({ length: maxLeaves }, () => new SplitResult());
  const finder = new SplitFinder(isCat, nBins, offsets, p);
  const noBins = new Int32Array(0);
  const sums = new Float64Array(2);
  const rng = createRng(seed);
  const trees: FlatTree[] = [];
  const minLeaf = p.minSamplesLeaf;
  const nColSample = Math.max(1, Math.round(p.colsample * F));

  const st: GrowState = {
    maxLeaves, maxDepth: p.maxDepth, minLeaf, histSize, F, hist, packed, offsets, columns, g, h, feats, fo,
    treeRows, scratchRows, lBegin, lCount, lDepth, lNode, lG, lH, splits, finder, gains, noBins,
  };
  for (let k = 0; k < m; k++) score[rows[k]] = initScore + (offset ? offset[rows[k]] : 0);

  const share = Math.min(p.subsample, p.maxTreeRows / m);
  let emptyTrees = 0;
  for (let it = 0; it < p.nIter; it++) {
    // Rows of this tree.
    let mm = m;
    if (share < 1) {
      mm = 0;
      for (let k = 0; k < m; k++) if (rng.next() < share) treeRows[mm++] = rows[k];
      if (mm < 2 * minLeaf) {
        treeRows.set(rows);
        mm = m;
      }
    } else {
      treeRows.set(rows);
    }
    // Features of this tree: partial Fisher-Yates on 0..F-1, then sorted.
    let nFeats = F;
    if (nColSample < F) {
      feats.set(allFeats);
      for (let i = 0; i < nColSample; i++) {
        const j = i + rng.int(F - i);
        const tmp = feats[i];
        feats[i] = feats[j];
        feats[j] = tmp;
      }
      nFeats = nColSample;
      feats.subarray(0, nFeats).sort();
    } else {
      feats.set(allFeats);
    }
    // Gradients and hessians of the loss.
    gradients(treeRows, mm, score, g, h, sums);
    const G = sums[0];
    const H = sums[1];

    // Grow one tree best-first.
    const builder = new FlatTreeBuilder(2 * maxLeaves);
    const nLeaves = growTree(st, builder, mm, nFeats, G, H);

    // Leaf values (shrunk) and score update.
    const lr = p.learningRate;
    for (let i = 0; i < nLeaves; i++) {
      const v = (-lG[i] / (lH[i] + p.l2)) * lr;
      builder.value[lNode[i]] = v;
      if (mm === m) addToScores(score, treeRows, lBegin[i], lCount[i], v);
    }
    const tree = builder.finish();
    if (mm < m) addTreeByRow(tree, columns, score, rows);
    trees.push(tree);
    // No admissible split (all gains <= minGain) on all rows and features: later trees would be
    // single leaves too (the gradients only move by this intercept step), so boosting stops here.
    // With row or feature subsampling another sample may still split: stop after 3 empty trees in a row.
    emptyTrees = nLeaves === 1 ? emptyTrees + 1 : 0;
    if (emptyTrees >= (mm === m && nFeats === F ? 1 : 3)) break;
  }
  if (options.trainScores) for (let k = 0; k < m; k++) options.trainScores[rows[k]] = score[rows[k]];
  return new GbmModel(initScore, trees, gains);
}

/** argmin_c of the log-loss of sigmoid(offset[r] + c) over rows, by Newton steps from c0 = log-odds. */
function bestConstant(rows: Uint32Array, labels: Uint8Array, offset: Float64Array, c0: number): number {
  if (rows.length === 0) return 0;
  let c = 0;
  for (let step = 0; step < 8; step++) {
    let G = 0;
    let H = 0;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      const pr = sigmoid(offset[r] + c);
      G += pr - labels[r];
      H += pr * (1 - pr);
    }
    const d = G / Math.max(H, 1e-12);
    c -= Math.max(-2, Math.min(2, d));
    if (Math.abs(d) < 1e-9) break;
  }
  return Number.isFinite(c) ? c : c0;
}

/**
 * A tree re-laid as a complete binary tree of its depth D for branch-free prediction: internal node i
 * has children 2i+1 (left) and 2i+2 (right); a leaf above depth D becomes pass-through nodes (feature
 * 0, every bin goes left) whose subtrees all repeat that leaf's value, so every row takes exactly D steps.
 */
interface CompiledTree {
  depth: number;
  feature: Int32Array;
  leftSet: Uint32Array;
  leaves: Float64Array;
}

const MAX_COMPILED_DEPTH = 12;

function compileTree(tree: FlatTree): CompiledTree | null {
  const { feature, left, right, leftSet, value } = tree;
  const depthOf = (n: number): number => (feature[n] < 0 ? 0 : 1 + Math.max(depthOf(left[n]), depthOf(right[n])));
  const D = depthOf(0);
  if (D > MAX_COMPILED_DEPTH) return null;
  const nInternal = (1 << D) - 1;
  const c: CompiledTree = {
    depth: D,
    feature: new Int32Array(Math.max(1, nInternal)),
    leftSet: new Uint32Array(Math.max(1, nInternal) * WORDS_PER_SET),
    leaves: new Float64Array(1 << D),
  };
  const fill = (src: number, pos: number, d: number): void => {
    if (d === D) {
      c.leaves[pos - nInternal] = value[src];
      return;
    }
    if (feature[src] < 0) {
      // pass-through: feature 0 with an all-ones left set; both subtrees repeat this leaf
      c.feature[pos] = 0;
      c.leftSet.fill(0xffffffff, pos * WORDS_PER_SET, (pos + 1) * WORDS_PER_SET);
      fill(src, 2 * pos + 1, d + 1);
      fill(src, 2 * pos + 2, d + 1);
      return;
    }
    c.feature[pos] = feature[src];
    c.leftSet.set(leftSet.subarray(src * WORDS_PER_SET, (src + 1) * WORDS_PER_SET), pos * WORDS_PER_SET);
    fill(left[src], 2 * pos + 1, d + 1);
    fill(right[src], 2 * pos + 2, d + 1);
  };
  fill(0, 0, 0);
  return c;
}

/** score[r] += leaf value of r in `tree`, for every r in rows (score indexed by data row). */
function addTreeByRow(tree: FlatTree, columns: readonly Uint8Array[], score: Float64Array, rows: Uint32Array): void {
  const c = compileTree(tree);
  if (c === null) {
    for (let k = 0; k < rows.length; k++) score[rows[k]] += tree.value[leafOf(tree, columns, rows[k])];
    return;
  }
  const { depth, feature, leftSet, leaves } = c;
  const nInternal = leaves.length - 1;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    let node = 0;
    for (let d = 0; d < depth; d++) {
      const bin = columns[feature[node]][row];
      node = 2 * node + 2 - ((leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1);
    }
    score[row] += leaves[node - nInternal];
  }
}

/** out[k] += leaf value of rows[k] (or row k) in the compiled tree: D branch-free steps per row. */
function addCompiled(c: CompiledTree, columns: readonly Uint8Array[], out: Float64Array, rows?: Uint32Array): void {
  const { depth, feature, leftSet, leaves } = c;
  const nInternal = leaves.length - 1;
  const m = out.length;
  if (depth === 0) {
    const v = leaves[0];
    for (let k = 0; k < m; k++) out[k] += v;
    return;
  }
  for (let k = 0; k < m; k++) {
    const row = rows ? rows[k] : k;
    let node = 0;
    for (let d = 0; d < depth; d++) {
      const bin = columns[feature[node]][row];
      node = 2 * node + 2 - ((leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1);
    }
    out[k] += leaves[node - nInternal];
  }
}

/**
 * out[k] += leaf value of rows[k] (or row k) in `tree`: flat.ts's accumulate with scale 1, with the
 * traversal inlined (about 2x faster on 50k rows x 70 trees; the same result, checked in tests).
 */
function addTree(tree: FlatTree, columns: readonly Uint8Array[], out: Float64Array, rows?: Uint32Array): void {
  const { feature, left, right, leftSet, value } = tree;
  if (feature[0] < 0) {
    const v = value[0];
    for (let k = 0; k < out.length; k++) out[k] += v;
    return;
  }
  const m = out.length;
  for (let k = 0; k < m; k++) {
    const row = rows ? rows[k] : k;
    let node = 0;
    let f = feature[0];
    while (f >= 0) {
      const bin = columns[f][row];
      node = ((leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1) === 1 ? left[node] : right[node];
      f = feature[node];
    }
    out[k] += value[node];
  }
}

/**
 * Log-loss gradient g = p - y and hessian h = p(1-p) (floored at 1e-16) at the current raw scores for
 * rows[0..count); sums[0] = sum g, sums[1] = sum h. A small function of its own so V8 optimises it
 * on its own (inside the large fit function it ran several times slower).
 */
function logLossGradients(
  rows: Uint32Array,
  count: number,
  score: Float64Array,
  labels: Uint8Array,
  g: Float64Array,
  h: Float64Array,
  sums: Float64Array,
): void {
  let G = 0;
  let H = 0;
  for (let k = 0; k < count; k++) {
    const r = rows[k];
    const pr = 1 / (1 + Math.exp(-score[r]));
    const gr = pr - labels[r];
    const hr = Math.max(pr * (1 - pr), 1e-16);
    g[r] = gr;
    h[r] = hr;
    G += gr;
    H += hr;
  }
  sums[0] = G;
  sums[1] = H;
}

/**
 * Weighted squared-loss gradient g = w (F - z) and hessian h = w for rows[0..count); sums as above.
 * A kernel of its own, like logLossGradients (not one loop with a per-row loss callback): each stays
 * monomorphic and V8 optimises it on its own.
 */
function squaredLossGradients(
  rows: Uint32Array,
  count: number,
  score: Float64Array,
  target: Float64Array,
  weight: Float64Array,
  g: Float64Array,
  h: Float64Array,
  sums: Float64Array,
): void {
  let G = 0;
  let H = 0;
  for (let k = 0; k < count; k++) {
    const r = rows[k];
    const w = weight[r];
    const gr = w * (score[r] - target[r]);
    g[r] = gr;
    h[r] = w;
    G += gr;
    H += w;
  }
  sums[0] = G;
  sums[1] = H;
}

function addToScores(score: Float64Array, rows: Uint32Array, begin: number, count: number, v: number): void {
  const end = begin + count;
  for (let k = begin; k < end; k++) score[rows[k]] += v;
}

/** Scratch and inputs of tree growth, allocated once per fit. */
interface GrowState {
  maxLeaves: number;
  maxDepth: number;
  minLeaf: number;
  histSize: number;
  F: number;
  hist: Float64Array;
  packed: Uint8Array;
  offsets: Int32Array;
  columns: Uint8Array[];
  g: Float64Array;
  h: Float64Array;
  feats: Int32Array;
  fo: Int32Array;
  treeRows: Uint32Array;
  scratchRows: Uint32Array;
  lBegin: Int32Array;
  lCount: Int32Array;
  lDepth: Int32Array;
  lNode: Int32Array;
  lG: Float64Array;
  lH: Float64Array;
  splits: SplitResult[];
  finder: SplitFinder;
  gains: Float64Array;
  noBins: Int32Array;
}

/**
 * Grows one tree best-first over treeRows[0..mm) into `builder`; returns the number of leaves. Leaf
 * slot i ends with rows treeRows[lBegin[i], +lCount[i]), node lNode[i] and sums lG[i], lH[i].
 * (A function of its own: V8 optimises it separately from the long fit loop.)
 */
function growTree(st: GrowState, builder: FlatTreeBuilder, mm: number, nFeats: number, G: number, H: number): number {
  const {
    maxLeaves, maxDepth, minLeaf, histSize, F, hist, packed, offsets, columns, g, h, feats, fo,
    treeRows, scratchRows, lBegin, lCount, lDepth, lNode, lG, lH, splits, finder, gains, noBins,
  } = st;
  lNode[0] = builder.addLeaf(0);
  lBegin[0] = 0;
  lCount[0] = mm;
  lDepth[0] = 0;
  lG[0] = G;
  lH[0] = H;
  buildHistogram(hist, 0, packed, F, offsets, feats, nFeats, treeRows, 0, mm, g, h, fo);
  if (maxDepth > 0) finder.find(hist, 0, feats, nFeats, G, H, mm, splits[0]);
  else splits[0].reset();
  let nLeaves = 1;
  while (nLeaves < maxLeaves) {
    let best = -1;
    let bestGain = -Infinity;
    for (let i = 0; i < nLeaves; i++) {
      if (splits[i].gain > bestGain) {
        bestGain = splits[i].gain;
        best = i;
      }
    }
    if (best < 0) break;
    const s = splits[best];
    const begin = lBegin[best];
    const count = lCount[best];
    const nl = partitionStable(treeRows, begin, count, columns[s.feature], s.leftSet, scratchRows);
    const nr = count - nl;
    const node = lNode[best];
    const leftNode = builder.addLeaf(0);
    const rightNode = builder.addLeaf(0);
    builder.setSplit(node, s.feature, noBins, leftNode, rightNode);
    builder.leftSet.set(s.leftSet, node * WORDS_PER_SET);
    gains[s.feature] += s.gain;

    // The larger child keeps the parent's slot (its histogram = parent - smaller); the smaller
    // child gets a new slot with a freshly built histogram.
    const depth = lDepth[best] + 1;
    const leftSmaller = nl <= nr;
    const small = nLeaves++;
    const sBegin = leftSmaller ? begin : begin + nl;
    const sCount = leftSmaller ? nl : nr;
    const bBegin = leftSmaller ? begin + nl : begin;
    const bCount = leftSmaller ? nr : nl;
    lBegin[small] = sBegin;
    lCount[small] = sCount;
    lDepth[small] = depth;
    lNode[small] = leftSmaller ? leftNode : rightNode;
    lG[small] = leftSmaller ? s.gl : s.gr;
    lH[small] = leftSmaller ? s.hl : s.hr;
    lBegin[best] = bBegin;
    lCount[best] = bCount;
    lDepth[best] = depth;
    lNode[best] = leftSmaller ? rightNode : leftNode;
    const bG = leftSmaller ? s.gr : s.gl;
    const bH = leftSmaller ? s.hr : s.hl;
    lG[best] = bG;
    lH[best] = bH;

    const room = nLeaves < maxLeaves && depth < maxDepth;
    const smallSplittable = room && sCount >= 2 * minLeaf;
    const bigSplittable = room && bCount >= 2 * minLeaf;
    splits[small].reset();
    splits[best].reset();
    if (smallSplittable || bigSplittable) {
      const sBase = small * histSize;
      const pBase = best * histSize;
      buildHistogram(hist, sBase, packed, F, offsets, feats, nFeats, treeRows, sBegin, sCount, g, h, fo);
      if (smallSplittable) finder.find(hist, sBase, feats, nFeats, lG[small], lH[small], sCount, splits[small]);
      if (bigSplittable) {
        subtractHistogram(hist, pBase, sBase, offsets, feats, nFeats);
        finder.find(hist, pBase, feats, nFeats, bG, bH, bCount, splits[best]);
      }
    }
  }
  return nLeaves;
}
