/**
 * Uplift random forest (causalml UpliftRandomForestClassifier recipe on our histogram uplift tree,
 * ../tree/uplift-tree.ts). A row's score is the mean over trees of its leaf's shrunk p_t - p_c.
 *
 * Tree k's rows, all randomness from createRng(deriveSeed(seed, TREE_STREAM, k)), so trees fitted in any split of
 * tree ranges across workers are identical to a one-shot fit (mergeForests puts them back in order):
 * - default (bootstrap): round(sampleFraction * n) draws with replacement; a drawn row enters the tree
 *   once with its multiplicity as weight;
 * - honest (config.honest): each row independently joins the structure half or the estimation half
 *   with probability sampleFraction / 2 each; the structure is grown on one half, every node's value estimated on the other (Athey &
 *   Imbens 2016, "Recursive partitioning for heterogeneous causal effects": honest estimation). With
 *   strong n_reg shrinkage this is what makes the forest both accurate and quiet on null data.
 * The sample size is sampleFraction * n, at most config.maxTreeRows (which bounds the cost per tree on
 * very large campaigns). At each node max(1, round(maxFeatures * p)) of the p features are tried.
 */
import type { BinnedDataset, FittedModel, ForestConfig } from '../types.js';
import { createRng, deriveSeed, type Rng } from '../rng.js';
import { UpliftTreeGrower } from '../tree/uplift-tree.js';
import { WORDS_PER_SET, type FlatTree } from '../tree/flat.js';
import { refinePooled, refinedView, type Refinement } from '../data/encode.js';
import { FOREST_REFINE_POOLED } from './defaults.js';

/** Plain typed arrays holding a fitted forest (transferable across a worker boundary). */
export interface ForestBuffers {
  nFeatures: number;
  /** Global index k of each stored tree (ascending). */
  treeIndex: Int32Array;
  /** Node range of tree i: [nodeOffset[i], nodeOffset[i+1]). */
  nodeOffset: Int32Array;
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  leftSet: Uint32Array;
  /** Per tree, per feature split importance (treeIndex order), length trees * nFeatures. */
  importance: Float64Array;
  /** Pooled-bin refinements of the fit (data/encode.ts refinePooled); absent = none. */
  refinements?: Refinement[];
}

/**
 * Prediction layout of a forest: all trees' nodes in one set of arrays (global node indices). Every
 * split's right child is its left child + 1 (FlatTreeBuilder adds them in that order), so one step is
 * node = next[node] + 1 - bit. A leaf loops onto itself (next = itself, feature 0, all-ones left set),
 * so a tree is walked in exactly `depth` steps with no data-dependent exit.
 */
interface WalkArrays {
  feature: Int32Array;
  next: Int32Array;
  leftSet: Uint32Array;
  value: Float64Array;
  root: Int32Array;
  depth: Int32Array;
}

function walkArrays(trees: FlatTree[]): WalkArrays {
  let N = 0;
  for (const t of trees) N += t.feature.length;
  const feature = new Int32Array(N);
  const next = new Int32Array(N);
  const leftSet = new Uint32Array(N * WORDS_PER_SET);
  const value = new Float64Array(N);
  const root = new Int32Array(trees.length);
  const depth = new Int32Array(trees.length);
  const nodeDepth: number[] = [];
  let o = 0;
  trees.forEach((t, i) => {
    root[i] = o;
    const n = t.feature.length;
    nodeDepth.length = 0;
    nodeDepth[0] = 0;
    let maxD = 0;
    for (let j = 0; j < n; j++) {
      const g = o + j;
      value[g] = t.value[j];
      if (t.feature[j] < 0) {
        feature[g] = 0;
        next[g] = g;
        leftSet.fill(0xffffffff, g * WORDS_PER_SET, (g + 1) * WORDS_PER_SET);
      } else {
        if (t.right[j] !== t.left[j] + 1) throw new Error('forest: right child must follow the left child');
        feature[g] = t.feature[j];
        next[g] = o + t.left[j];
        leftSet.set(t.leftSet.subarray(j * WORDS_PER_SET, (j + 1) * WORDS_PER_SET), g * WORDS_PER_SET);
        nodeDepth[t.left[j]] = nodeDepth[t.right[j]] = nodeDepth[j] + 1;
        if (nodeDepth[j] + 1 > maxD) maxD = nodeDepth[j] + 1;
      }
    }
    depth[i] = maxD;
    o += n;
  });
  return { feature, next, leftSet, value, root, depth };
}

export class UpliftForest implements FittedModel {
  readonly treeList: FlatTree[];
  readonly treeIndex: Int32Array;
  readonly nFeatures: number;
  private readonly treeImportance: Float64Array;
  /** Pooled-bin refinements the trees were grown with (their splits refer to the refined bins). */
  readonly refinements: Refinement[];

  constructor(trees: FlatTree[], treeIndex: Int32Array, treeImportance: Float64Array, nFeatures: number, refinements: Refinement[] = []) {
    this.treeList = trees;
    this.treeIndex = treeIndex;
    this.treeImportance = treeImportance;
    this.nFeatures = nFeatures;
    this.refinements = refinements;
  }

  /** The dataset as the trees see it (pooled bins refined as in the fit); `data` itself without refinements. */
  view(data: BinnedDataset): BinnedDataset {
    return refinedView(data, this.refinements);
  }

  get trees(): number {
    return this.treeList.length;
  }

  private walk: WalkArrays | null = null;

  /**
   * Mean over trees of the leaf value each row reaches. Rows go in blocks of 256 whose bins are first
   * copied row-major; each tree is then walked for every row of the block with a fixed number of
   * branch-free steps (see WalkArrays). Sums run in tree order, so the result does not depend on how
   * the forest was split into parts.
   */
  predict(data: BinnedDataset, rows?: Uint32Array): Float64Array {
    const m = rows ? rows.length : data.n;
    const out = new Float64Array(m);
    const T = this.treeList.length;
    if (T === 0 || m === 0) return out;
    const w = (this.walk ??= walkArrays(this.treeList));
    data = this.view(data);
    const { feature, next, leftSet, value, root, depth } = w;
    const F = Math.max(1, data.features.length);
    const columns = data.features.map((f) => f.bins);
    const BLOCK = 256;
    const X = new Uint8Array(BLOCK * F);
    for (let start = 0; start < m; start += BLOCK) {
      const stop = Math.min(m, start + BLOCK);
      for (let f = 0; f < columns.length; f++) {
        const col = columns[f];
        for (let k = start, p = f; k < stop; k++, p += F) X[p] = col[rows ? rows[k] : k];
      }
      for (let t = 0; t < T; t++) {
        const r0 = root[t];
        const D = depth[t];
        let k = start;
        let base = 0;
        // four rows walk in lock-step: independent load chains overlap in the CPU
        for (; k + 3 < stop; k += 4, base += 4 * F) {
          let n0 = r0, n1 = r0, n2 = r0, n3 = r0;
          const b1 = base + F, b2 = b1 + F, b3 = b2 + F;
          for (let d = 0; d < D; d++) {
            const x0 = X[base + feature[n0]];
            const x1 = X[b1 + feature[n1]];
            const x2 = X[b2 + feature[n2]];
            const x3 = X[b3 + feature[n3]];
            n0 = next[n0] + 1 - ((leftSet[n0 * WORDS_PER_SET + (x0 >>> 5)] >>> (x0 & 31)) & 1);
            n1 = next[n1] + 1 - ((leftSet[n1 * WORDS_PER_SET + (x1 >>> 5)] >>> (x1 & 31)) & 1);
            n2 = next[n2] + 1 - ((leftSet[n2 * WORDS_PER_SET + (x2 >>> 5)] >>> (x2 & 31)) & 1);
            n3 = next[n3] + 1 - ((leftSet[n3 * WORDS_PER_SET + (x3 >>> 5)] >>> (x3 & 31)) & 1);
          }
          out[k] += value[n0];
          out[k + 1] += value[n1];
          out[k + 2] += value[n2];
          out[k + 3] += value[n3];
        }
        for (; k < stop; k++, base += F) {
          let node = r0;
          for (let d = 0; d < D; d++) {
            const bin = X[base + feature[node]];
            node = next[node] + 1 - ((leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1);
          }
          out[k] += value[node];
        }
      }
    }
    const inv = 1 / T;
    for (let k = 0; k < m; k++) out[k] *= inv;
    return out;
  }

  /** Sum over trees (in tree order) of each feature's split gain, normalised to sum 1 (all 0 if none). */
  importance(): Float64Array {
    const F = this.nFeatures;
    const imp = new Float64Array(F);
    for (let t = 0; t < this.treeList.length; t++) {
      for (let f = 0; f < F; f++) imp[f] += this.treeImportance[t * F + f];
    }
    let s = 0;
    for (let f = 0; f < F; f++) s += imp[f] > 0 ? imp[f] : 0;
    if (s > 0) for (let f = 0; f < F; f++) imp[f] = imp[f] > 0 ? imp[f] / s : 0;
    return imp;
  }

  toBuffers(): ForestBuffers {
    const T = this.treeList.length;
    const nodeOffset = new Int32Array(T + 1);
    for (let t = 0; t < T; t++) nodeOffset[t + 1] = nodeOffset[t] + this.treeList[t].feature.length;
    const N = nodeOffset[T];
    const feature = new Int32Array(N);
    const left = new Int32Array(N);
    const right = new Int32Array(N);
    const value = new Float64Array(N);
    const leftSet = new Uint32Array(N * WORDS_PER_SET);
    for (let t = 0; t < T; t++) {
      const tr = this.treeList[t];
      const o = nodeOffset[t];
      feature.set(tr.feature, o);
      left.set(tr.left, o);
      right.set(tr.right, o);
      value.set(tr.value, o);
      leftSet.set(tr.leftSet, o * WORDS_PER_SET);
    }
    return {
      nFeatures: this.nFeatures,
      treeIndex: this.treeIndex.slice(),
      nodeOffset,
      feature,
      left,
      right,
      value,
      leftSet,
      importance: this.treeImportance.slice(),
      ...(this.refinements.length > 0 ? { refinements: this.refinements } : {}),
    };
  }

  static fromBuffers(b: ForestBuffers): UpliftForest {
    const T = b.treeIndex.length;
    const trees: FlatTree[] = [];
    for (let t = 0; t < T; t++) {
      const s = b.nodeOffset[t];
      const e = b.nodeOffset[t + 1];
      trees.push({
        feature: b.feature.slice(s, e),
        left: b.left.slice(s, e),
        right: b.right.slice(s, e),
        value: b.value.slice(s, e),
        leftSet: b.leftSet.slice(s * WORDS_PER_SET, e * WORDS_PER_SET),
      });
    }
    return new UpliftForest(trees, b.treeIndex.slice(), b.importance.slice(), b.nFeatures, b.refinements ?? []);
  }
}

/**
 * Leaf-size limit actually used: the configured minSamplesLeaf, capped at 1/8 of the rows a tree grows
 * its structure on, so that the configurations tuned on 50 000 rows still split (about three levels)
 * on small campaigns instead of returning one constant.
 */
export function effectiveMinLeaf(minSamplesLeaf: number, structureRows: number): number {
  return Math.max(1, Math.min(minSamplesLeaf, Math.floor(structureRows / 8)));
}

const TREE_STREAM = 0x7f4a7c15;

/**
 * Honest sampling: each row independently joins the structure half (written to `sample`) or the
 * estimation half (written to `estimate`) with probability m / (2n) each; both in row order. Random
 * bits are used sparingly: one coin flip per row when every row is used (m >= n), geometric jumps
 * between taken rows when under a quarter is taken, else one byte per row (the probability rounded
 * to 1/256). Branch-free: each row is written to both, one count moves.
 * Sets counts[0] = structure rows, counts[1] = estimation rows.
 */
function honestHalves(rows: Uint32Array, n: number, m: number, rng: Rng, sample: Uint32Array, estimate: Uint32Array, counts: Int32Array): void {
  let a = 0, b = 0;
  if (m >= n) {
    for (let j = 0; j < n; j += 32) {
      const bits = (rng.next() * 4294967296) >>> 0;
      const stop = Math.min(n, j + 32);
      for (let q = j; q < stop; q++) {
        const bit = (bits >>> (q - j)) & 1;
        const r = rows[q];
        sample[a] = r;
        estimate[b] = r;
        a += bit;
        b += 1 - bit;
      }
    }
  } else if (m * 4 < n) {
    // a small share of the rows: jump from one taken row to the next with geometric gaps (one
    // uniform per taken row, P(gap = g) = (1 - p)^g p), then one more uniform picks the half
    const p = m / n;
    const logq = Math.log(1 - p);
    let q = -1;
    for (;;) {
      const u = rng.next();
      q += 1 + Math.floor(Math.log(1 - u) / logq);
      if (!(q < n)) break;
      const r = rows[q];
      if (rng.next() < 0.5) sample[a++] = r;
      else estimate[b++] = r;
    }
  } else {
    const t2 = Math.max(2, Math.min(256, Math.round((256 * m) / n)));
    const t1 = t2 >>> 1;
    let bits = 0;
    for (let q = 0; q < n; q++) {
      if ((q & 3) === 0) bits = (rng.next() * 4294967296) >>> 0;
      const x = bits & 255;
      bits >>>= 8;
      const r = rows[q];
      sample[a] = r;
      estimate[b] = r;
      const inA = (x - t1) >>> 31; // x < t1
      a += inA;
      b += ((x - t2) >>> 31) - inA; // t1 <= x < t2
    }
  }
  counts[0] = a;
  counts[1] = b;
}

export function featuresPerNode(maxFeatures: number, p: number): number {
  return Math.max(1, Math.min(p, Math.round(maxFeatures * p)));
}

/**
 * Fits trees [treeRange[0], treeRange[1]) (default: all config.nTrees) of the forest on `rows`
 * (indices into data). Deterministic for (data, rows, config, seed); see mergeForests.
 */
export function fitUpliftForest(
  data: BinnedDataset,
  rows: Uint32Array,
  config: ForestConfig,
  seed: number,
  treeRange?: [number, number],
  refine: boolean = FOREST_REFINE_POOLED,
): UpliftForest {
  const [t0, t1] = treeRange ?? [0, config.nTrees];
  // optional: pooled high-cardinality levels refined from these rows only (deterministic in (data,
  // rows), so every tree range of a split fit gets the same refinement); off by default (defaults.ts)
  const { train, refinements } = refine ? refinePooled(data, rows) : { train: data, refinements: [] };
  data = train;
  const F = data.features.length;
  const n = rows.length;
  const m = Math.max(1, Math.min(Math.round(config.sampleFraction * n), config.maxTreeRows ?? Infinity));
  const honest = config.honest === true;
  const grower = new UpliftTreeGrower(data, {
    criterion: config.criterion,
    maxDepth: config.maxDepth,
    minSamplesLeaf: effectiveMinLeaf(config.minSamplesLeaf, honest ? Math.min(m, n) / 2 : m),
    minSamplesTreatment: config.minSamplesTreatment,
    nReg: config.nReg,
    featuresPerNode: featuresPerNode(config.maxFeatures, F),
    ...(config.maxThresholds ? { maxThresholds: config.maxThresholds } : {}),
  });
  const sample = new Uint32Array(Math.max(m, n));
  const draws = new Uint32Array(n);
  const weight = new Uint8Array(data.n);
  const estimate = honest ? new Uint32Array(n) : new Uint32Array(0);
  const halves = new Int32Array(2);
  const trees: FlatTree[] = [];
  const count = Math.max(0, t1 - t0);
  const treeIndex = new Int32Array(count);
  const imp = new Float64Array(count * F);
  for (let k = t0; k < t1; k++) {
    // (a constant first key: deriveSeed(s, k) alone collides whenever s ^ k does, e.g. (42, 1) = (43, 0))
    const rng = createRng(deriveSeed(seed, TREE_STREAM, k));
    const i = k - t0;
    treeIndex[i] = k;
    if (honest) {
      honestHalves(rows, n, m, rng, sample, estimate, halves);
      const a = halves[0];
      const b = halves[1];
      // sample[0, a) grows the structure, the other half (appended) estimates the leaves
      sample.set(estimate.subarray(0, b), a);
      trees.push(grower.grow(sample, a, rng, imp.subarray(i * F, (i + 1) * F), undefined, b));
      continue;
    }
    // bootstrap: m draws with replacement; each drawn row appears once, in the order of `rows`, with
    // its multiplicity as weight (weighted histograms count it that many times)
    draws.fill(0);
    for (let q = 0; q < m; q++) draws[rng.int(n)]++;
    let distinct = 0;
    for (let j = 0; j < n; j++) {
      const c = draws[j];
      if (c === 0) continue;
      const r = rows[j];
      if (weight[r] === 0) sample[distinct++] = r; // (a row listed twice in `rows` is merged)
      weight[r] = Math.min(255, weight[r] + c);
    }
    trees.push(grower.grow(sample, distinct, rng, imp.subarray(i * F, (i + 1) * F), weight));
    for (let j = 0; j < distinct; j++) weight[sample[j]] = 0;
  }
  return new UpliftForest(trees, treeIndex, imp, F, refinements);
}

/** Combines forests fitted on disjoint tree ranges into the forest a one-shot fit would give. */
export function mergeForests(parts: FittedModel[]): UpliftForest {
  for (const p of parts) if (!(p instanceof UpliftForest)) throw new TypeError('mergeForests: not an UpliftForest');
  const items: { k: number; tree: FlatTree; imp: Float64Array }[] = [];
  let F = 0;
  for (const p of parts as UpliftForest[]) {
    F = p.nFeatures;
    const bufImp = p.toBuffers().importance;
    for (let i = 0; i < p.treeList.length; i++) {
      items.push({ k: p.treeIndex[i], tree: p.treeList[i], imp: bufImp.subarray(i * F, (i + 1) * F) });
    }
  }
  items.sort((a, b) => a.k - b.k);
  const refinements = parts.length > 0 ? (parts[0] as UpliftForest).refinements : [];
  for (let i = 1; i < items.length; i++) {
    if (items[i].k === items[i - 1].k) throw new Error(`mergeForests: tree ${items[i].k} appears twice`);
  }
  const imp = new Float64Array(items.length * F);
  items.forEach((it, i) => imp.set(it.imp, i * F));
  return new UpliftForest(
    items.map((it) => it.tree),
    Int32Array.from(items.map((it) => it.k)),
    imp,
    F,
    refinements,
  );
}
