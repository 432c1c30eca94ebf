/**
 * Uplift random forest (causalml UpliftRandomForestClassifier recipe on our histogram uplift tree):
 * tree k draws round(sampleFraction * n) rows with replacement (bootstrap) from the training rows and
 * tries max(1, round(maxFeatures * p)) random features at each node; all of tree k's randomness comes
 * from createRng(deriveSeed(seed, k)), so trees fitted in any split of tree ranges across workers are
 * identical to a one-shot fit. A row's score is the mean over trees of its leaf's shrunk p_t - p_c.
 */
import type { BinnedDataset, FittedModel, ForestConfig } from '../types.js';
import { createRng, deriveSeed } from '../rng.js';
import { UpliftTreeGrower } from '../tree/uplift-tree.js';
import { WORDS_PER_SET, type FlatTree } from '../tree/flat.js';

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
}

export class UpliftForest implements FittedModel {
  readonly treeList: FlatTree[];
  readonly treeIndex: Int32Array;
  readonly nFeatures: number;
  private readonly treeImportance: Float64Array;

  constructor(trees: FlatTree[], treeIndex: Int32Array, treeImportance: Float64Array, nFeatures: number) {
    this.treeList = trees;
    this.treeIndex = treeIndex;
    this.treeImportance = treeImportance;
    this.nFeatures = nFeatures;
  }

  get trees(): number {
    return this.treeList.length;
  }

  predict(data: BinnedDataset, rows?: Uint32Array): Float64Array {
    const m = rows ? rows.length : data.n;
    const out = new Float64Array(m);
    const T = this.treeList.length;
    if (T === 0) return out;
    const columns = data.features.map((f) => f.bins);
    for (let t = 0; t < T; t++) {
      const tree = this.treeList[t];
      const { feature, left, right, leftSet, value } = tree;
      if (feature[0] < 0) {
        const v = value[0];
        for (let k = 0; k < m; k++) out[k] += v;
        continue;
      }
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
    return new UpliftForest(trees, b.treeIndex.slice(), b.importance.slice(), b.nFeatures);
  }
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
): UpliftForest {
  const [t0, t1] = treeRange ?? [0, config.nTrees];
  const F = data.features.length;
  const grower = new UpliftTreeGrower(data, {
    criterion: config.criterion,
    maxDepth: config.maxDepth,
    minSamplesLeaf: config.minSamplesLeaf,
    minSamplesTreatment: config.minSamplesTreatment,
    nReg: config.nReg,
    featuresPerNode: featuresPerNode(config.maxFeatures, F),
  });
  const n = rows.length;
  const m = Math.max(1, Math.round(config.sampleFraction * n));
  const sample = new Uint32Array(m);
  const trees: FlatTree[] = [];
  const count = Math.max(0, t1 - t0);
  const treeIndex = new Int32Array(count);
  const imp = new Float64Array(count * F);
  for (let k = t0; k < t1; k++) {
    const rng = createRng(deriveSeed(seed, k));
    for (let i = 0; i < m; i++) sample[i] = rows[rng.int(n)];
    const i = k - t0;
    treeIndex[i] = k;
    trees.push(grower.grow(sample, m, rng, imp.subarray(i * F, (i + 1) * F)));
  }
  return new UpliftForest(trees, treeIndex, imp, F);
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
  );
}
