/**
 * The uplift tree (Rzepakowski & Jaroszewicz 2012; the variant of causalml's UpliftTreeClassifier),
 * grown on binned data with per-bin histograms.
 *
 * Node summary (causalml `tree_node_summary`): the root's rates are the raw conversion rates p_t, p_c;
 * a child's rate of each group is shrunk toward its parent's, (y + p_parent * nReg) / (n + nReg), and
 * is the parent's rate when the child has at most minSamplesTreatment rows of that group.
 * Node score D = divergence(p_t, p_c) (KL, ED or Chi, ./criteria). A split's gain is
 * ((n_l D_l + n_r D_r) / n - D_node) / I(split) with I the normalisation of ./criteria/norm.ts.
 * A split is valid when both children have >= minSamplesLeaf rows and >= minSamplesTreatment rows of
 * each group; the best valid split with gain > 0 is taken while depth < maxDepth (the root has depth 0,
 * so maxDepth = d gives at most 2^d leaves).
 *
 * Split candidates of a feature (every left set is a set of bins, see ../tree/flat.ts):
 * - numeric: bins 1..k for every k, with the missing bin 0 on the left or on the right (both tried),
 *   plus "missing alone";
 * - categorical: the non-empty levels of the node ordered by their shrunk uplift
 *   p_t - p_c in the node (ties by bin), then scanned like a numeric feature, missing both ways.
 * Bins with no rows in the node (empty levels, an empty missing bin) go with the larger child.
 *
 * Leaf value = the leaf's shrunk p_t - p_c (so a tiny leaf cannot claim +-1).
 * Importance per feature = causalml's gain_for_imp: n_l D_l + n_r D_r - n D_node of each split made.
 *
 * Mechanics: one Uint32Array of row indices partitioned in place (a node is a slice; stable, branch-free
 * partition); the smaller child's histogram is built from its rows, the larger one as parent - smaller,
 * reusing the parent's buffer. Numeric features with more than 63 value bins are scanned on 63
 * equal-frequency groups of bins (histogram.ts). A tree that samples at most a quarter of a dataset
 * first gathers its rows into a compact local copy (memory locality on large campaigns). All scratch
 * is allocated once per grower and reused across trees.
 */
import type { BinnedDataset, Criterion } from '../types.js';
import type { Rng } from '../rng.js';
import { FlatTreeBuilder, WORDS_PER_SET, type FlatTree } from './flat.js';
import { SLOTS, buildHistogram, buildWeightedHistogram, histogramLayout, rowMajorBins, subtractHistogram, type HistogramLayout } from './histogram.js';
import { divergenceFor, normalization, type Divergence } from './criteria/index.js';

/** Trees whose rows are at most 1/LOCAL_COPY_RATIO of the dataset grow on a gathered copy. */
const LOCAL_COPY_RATIO = 4;

export interface UpliftTreeParams {
  criterion: Criterion;
  maxDepth: number;
  minSamplesLeaf: number;
  minSamplesTreatment: number;
  nReg: number;
  /** Features tried at each node (sampled without replacement); >= the feature count = all. */
  featuresPerNode: number;
  /** Apply the split normalisation (default true, as causalml). */
  normalize?: boolean;
  /**
   * At most about this many thresholds per numeric feature and node: a threshold is tried after a bin
   * only once the rows accumulated since the last tried threshold reach node rows / maxThresholds
   * (node-local quantiles; causalml tries 11 fixed percentiles). >= 256 tries every bin. Default 64.
   */
  maxThresholds?: number;
  /**
   * Histogram bins per numeric feature, missing bin included (default 64): finer encoder bins are
   * merged in equal-frequency groups for split finding (smaller histograms, cheaper subtraction).
   */
  histogramBins?: number;
}

/** Best split found by `findBestSplit` (kept in the grower's fields to avoid allocation). */
export interface SplitResult {
  gain: number;
  feature: number;
  /** Number of bins in the left set, and the bins themselves in leftBins[0..leftCount). */
  leftCount: number;
  leftBins: Int32Array;
  /** Left child's (n_t, y_t, n_c, y_c). */
  left: Float64Array;
  /** causalml gain_for_imp of the split. */
  importance: number;
}

export class UpliftTreeGrower {
  readonly layout: HistogramLayout;
  private readonly data: BinnedDataset;
  private readonly divergence: Divergence;
  private readonly params: Required<UpliftTreeParams>;
  private readonly kinds: Uint8Array; // 1 = categorical
  private readonly histSize: number;
  private readonly pool: Float64Array[] = [];
  private readonly featureOrder: Int32Array;
  // split-search scratch
  private readonly catBins = new Int32Array(256);
  private readonly catKeys = new Float64Array(256);
  private readonly best: SplitResult = {
    gain: 0,
    feature: -1,
    leftCount: 0,
    leftBins: new Int32Array(256),
    left: new Float64Array(4),
    importance: 0,
  };
  // node being searched
  private NT = 0;
  private YT = 0;
  private NC = 0;
  private YC = 0;
  private PT = 0;
  private PC = 0;
  private score = 0;
  // best candidate within the current feature
  private candGain = 0;
  private candK = -1;
  private candMissingLeft = false;
  private candLeft = new Float64Array(4);
  private builder = new FlatTreeBuilder(64);
  private importanceOut: Float64Array | null = null;
  private rng: Rng | null = null;
  private weight: Uint8Array | null = null;
  private scratch = new Uint32Array(1024);
  private honest = false;
  private estCnt = new Float64Array(256);
  /** Layout the current tree reads: the global one, or a gathered copy of the tree's rows (see gather). */
  private cur: HistogramLayout;
  private local: HistogramLayout | null = null;
  private localRows = new Uint32Array(0);
  private localWeight = new Uint8Array(0);

  constructor(data: BinnedDataset, params: UpliftTreeParams, layout?: HistogramLayout) {
    this.data = data;
    this.params = { normalize: true, maxThresholds: 64, histogramBins: 64, ...params };
    this.layout = layout ?? histogramLayout(data, this.params.histogramBins);
    this.cur = this.layout;
    this.divergence = divergenceFor(params.criterion);
    const F = data.features.length;
    this.kinds = new Uint8Array(F);
    for (let f = 0; f < F; f++) this.kinds[f] = data.features[f].kind === 'categorical' ? 1 : 0;
    this.histSize = this.layout.totalBins * SLOTS;
    this.featureOrder = new Int32Array(F);
  }

  private acquire(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.histSize);
  }

  private release(h: Float64Array): void {
    this.pool.push(h);
  }

  /**
   * Grows one tree on rows[0, count) (the array may be reordered in place). `rng` drives feature sampling;
   * split gains are added to `importance` (length = feature count) when given; `weight[row]` makes a
   * row count that many times (bootstrap). With `estimate` (honest tree), the structure is grown on
   * rows[0, count) only and every node's value is then re-estimated from rows[count, count+estimate)
   * (same shrinkage; see reestimate): those rows are partitioned alongside, never scanned per node.
   */
  grow(rows: Uint32Array, count: number, rng: Rng, importance?: Float64Array, weight?: Uint8Array, estimate = 0): FlatTree {
    // a tree that samples a small share of a large dataset works on a compact copy of its rows
    // (local ids 0..T-1): the histogram passes and partitions then stay within a few MB
    const T = count + estimate;
    if (T > 0 && this.data.n >= LOCAL_COPY_RATIO * T) {
      this.gather(rows, T, weight);
      rows = this.localRows;
      if (weight) weight = this.localWeight;
    } else {
      this.cur = this.layout;
    }
    this.builder = new FlatTreeBuilder(64);
    this.honest = estimate > 0;
    if (this.honest) this.estCnt.fill(0);
    this.importanceOut = importance ?? null;
    this.rng = rng;
    this.weight = weight ?? null;
    const root = this.acquire();
    this.histogram(root, rows, 0, count);
    // node totals from the first feature's histogram (every feature sums to the same totals)
    let nt = 0, yt = 0, nc = 0, yc = 0;
    if (this.cur.columns.length > 0) {
      const end = this.cur.nBins[0] * SLOTS;
      for (let o = 0; o < end; o += SLOTS) {
        nt += root[o]; yt += root[o + 1]; nc += root[o + 2]; yc += root[o + 3];
      }
    } else {
      const code = this.cur.code;
      for (let k = 0; k < count; k++) {
        const w = this.weight ? this.weight[rows[k]] : 1;
        const c = code[rows[k]];
        if (c & 2) { nc += w; yc += (c & 1) * w; } else { nt += w; yt += (c & 1) * w; }
      }
    }
    const pt = nt > 0 ? yt / nt : 0;
    const pc = nc > 0 ? yc / nc : 0;
    const node = this.builder.addLeaf(pt - pc);
    this.growNode(node, rows, 0, count, root, 0, nt, yt, nc, yc, pt, pc, count, estimate);
    this.importanceOut = null;
    this.rng = null;
    this.weight = null;
    const tree = this.builder.finish();
    if (this.honest) this.shrinkValues(tree, this.estCnt);
    this.honest = false;
    this.cur = this.layout;
    return tree;
  }

  /** Copies the code, packed bins and bin columns of rows[0, T) into the local layout (ids 0..T-1). */
  private gather(rows: Uint32Array, T: number, weight?: Uint8Array): void {
    const g = this.layout;
    const F = g.columns.length;
    let L = this.local;
    if (!L || L.code.length < T) {
      const cap = Math.max(T, L ? 2 * L.code.length : 0);
      L = this.local = {
        offset: g.offset,
        nBins: g.nBins,
        totalBins: g.totalBins,
        lastBin: g.lastBin,
        columns: g.columns.map(() => new Uint8Array(cap)),
        code: new Uint8Array(cap),
        packed: g.packed instanceof Uint16Array ? new Uint16Array(cap * F) : new Uint32Array(cap * F),
      };
      this.localRows = new Uint32Array(cap);
      this.localWeight = new Uint8Array(cap);
    }
    const code = L.code, packed = L.packed, gcode = g.code, gpacked = g.packed;
    const gbins = rowMajorBins(g);
    const cols = L.columns;
    for (let i = 0; i < T; i++) {
      const r = rows[i];
      code[i] = gcode[r];
      const p = r * F;
      const q = i * F;
      for (let f = 0; f < F; f++) {
        packed[q + f] = gpacked[p + f];
        cols[f][i] = gbins[p + f];
      }
    }
    if (weight) for (let i = 0; i < T; i++) this.localWeight[i] = weight[rows[i]];
    const lr = this.localRows;
    for (let i = 0; i < T; i++) lr[i] = i;
    this.cur = L;
  }

  /** Honest mode: adds the (n_t, y_t, n_c, y_c) of estimation rows rows[begin, begin+count) to leaf `node`. */
  private countLeaf(node: number, rows: Uint32Array, begin: number, count: number): void {
    if (this.estCnt.length < (node + 1) * 4) {
      const grown = new Float64Array(Math.max((node + 1) * 4, this.estCnt.length * 2));
      grown.set(this.estCnt);
      this.estCnt = grown;
    }
    const cnt = this.estCnt;
    const code = this.cur.code;
    let nt = 0, yt = 0, nc = 0, yc = 0;
    for (let k = begin; k < begin + count; k++) {
      const c = code[rows[k]];
      if (c & 2) { nc++; yc += c & 1; } else { nt++; yt += c & 1; }
    }
    const o = node * 4;
    cnt[o] += nt; cnt[o + 1] += yt; cnt[o + 2] += nc; cnt[o + 3] += yc;
  }

  private histogram(hist: Float64Array, rows: Uint32Array, begin: number, count: number): void {
    if (this.weight) buildWeightedHistogram(this.cur, hist, rows, begin, count, this.weight);
    else buildHistogram(this.cur, hist, rows, begin, count);
  }

  /**
   * Honest leaf values: replaces tree.value by estimates from rows[begin, begin+count) (rows the
   * structure was not grown on). Counts are summed per node; values are computed top-down with the
   * same shrinkage as during growth (root: raw rates of these rows). Returns the tree for chaining.
   */
  reestimate(tree: FlatTree, rows: Uint32Array, begin: number, count: number): FlatTree {
    const N = tree.feature.length;
    const cnt = new Float64Array(N * 4);
    const code = this.layout.code;
    const columns = this.layout.columns;
    const { feature, left, right, leftSet } = tree;
    for (let k = begin; k < begin + count; k++) {
      const r = rows[k];
      let node = 0;
      while (feature[node] >= 0) {
        const bin = columns[feature[node]][r];
        node = ((leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1) === 1 ? left[node] : right[node];
      }
      const c = code[r];
      const o = node * 4 + (c & 2);
      cnt[o] += 1;
      cnt[o + 1] += c & 1;
    }
    return this.shrinkValues(tree, cnt);
  }

  /**
   * Sets every node's value from per-node counts in which only the leaves are filled in: leaves are
   * summed up (children always have larger indices than their parent), then rates are shrunk top-down
   * as during growth, root = raw rates.
   */
  private shrinkValues(tree: FlatTree, cnt: Float64Array): FlatTree {
    const N = tree.feature.length;
    const { feature, left, right, value } = tree;
    for (let i = N - 1; i >= 0; i--) {
      if (feature[i] < 0) continue;
      for (let s = 0; s < 4; s++) cnt[i * 4 + s] = cnt[left[i] * 4 + s] + cnt[right[i] * 4 + s];
    }
    const pt = new Float64Array(N);
    const pc = new Float64Array(N);
    pt[0] = cnt[0] > 0 ? cnt[1] / cnt[0] : 0;
    pc[0] = cnt[2] > 0 ? cnt[3] / cnt[2] : 0;
    value[0] = pt[0] - pc[0];
    const { nReg, minSamplesTreatment: mst } = this.params;
    for (let i = 0; i < N; i++) {
      if (feature[i] < 0) continue;
      for (let side = 0; side < 2; side++) {
        const ch = side === 0 ? left[i] : right[i];
        const nt = cnt[ch * 4], nc = cnt[ch * 4 + 2];
        pt[ch] = nt > mst ? (cnt[ch * 4 + 1] + pt[i] * nReg) / (nt + nReg) : pt[i];
        pc[ch] = nc > mst ? (cnt[ch * 4 + 3] + pc[i] * nReg) / (nc + nReg) : pc[i];
        value[ch] = pt[ch] - pc[ch];
      }
    }
    return tree;
  }

  /**
   * Stable, branch-free partition of rows[begin, begin+count): rows whose bin is in the left set come
   * first, both sides keep their order (flat.ts `partition` semantics, but stable, which keeps later
   * histogram passes close to row order). Right-going rows wait in a scratch buffer.
   */
  private partition(rows: Uint32Array, begin: number, count: number, bins: Uint8Array, leftSet: Uint32Array, setOffset: number): number {
    let scratch = this.scratch;
    if (scratch.length < count) scratch = this.scratch = new Uint32Array(Math.max(count, 2 * scratch.length));
    let l = begin;
    let r = 0;
    const end = begin + count;
    for (let k = begin; k < end; k++) {
      const row = rows[k];
      const bin = bins[row];
      const bit = (leftSet[setOffset + (bin >>> 5)] >>> (bin & 31)) & 1;
      rows[l] = row;
      scratch[r] = row;
      l += bit;
      r += 1 - bit;
    }
    rows.set(scratch.subarray(0, r), l);
    return l - begin;
  }

  /** `n` = the node's (weighted) row count. */
  private canSplit(n: number, depth: number): boolean {
    return depth < this.params.maxDepth && n >= 2 * Math.max(1, this.params.minSamplesLeaf);
  }

  private growNode(
    node: number,
    rows: Uint32Array,
    begin: number,
    count: number,
    hist: Float64Array,
    depth: number,
    nt: number,
    yt: number,
    nc: number,
    yc: number,
    pt: number,
    pc: number,
    eBegin: number,
    eCount: number,
  ): void {
    if (count < 2 || !this.canSplit(nt + nc, depth)) {
      this.release(hist);
      if (this.honest) this.countLeaf(node, rows, eBegin, eCount);
      return;
    }
    const best = this.findBestSplit(hist, nt, yt, nc, yc, pt, pc, true);
    if (best.feature < 0) {
      this.release(hist);
      if (this.honest) this.countLeaf(node, rows, eBegin, eCount);
      return;
    }
    const f = best.feature;
    if (this.importanceOut) this.importanceOut[f] += best.importance;
    const lnt = best.left[0], lyt = best.left[1], lnc = best.left[2], lyc = best.left[3];
    const rnt = nt - lnt, ryt = yt - lyt, rnc = nc - lnc, ryc = yc - lyc;
    const { nReg, minSamplesTreatment: mst } = this.params;
    const lpt = lnt > mst ? (lyt + pt * nReg) / (lnt + nReg) : pt;
    const lpc = lnc > mst ? (lyc + pc * nReg) / (lnc + nReg) : pc;
    const rpt = rnt > mst ? (ryt + pt * nReg) / (rnt + nReg) : pt;
    const rpc = rnc > mst ? (ryc + pc * nReg) / (rnc + nReg) : pc;
    const b = this.builder;
    const left = b.addLeaf(lpt - lpc);
    const right = b.addLeaf(rpt - rpc);
    b.setSplit(node, f, best.leftBins.subarray(0, best.leftCount), left, right);
    const bins = this.cur.columns[f];
    const nLeft = this.partition(rows, begin, count, bins, b.leftSet, node * WORDS_PER_SET);
    const nRight = count - nLeft;
    const eLeft = this.honest ? this.partition(rows, eBegin, eCount, bins, b.leftSet, node * WORDS_PER_SET) : 0;
    const splitL = nLeft >= 2 && this.canSplit(lnt + lnc, depth + 1);
    const splitR = nRight >= 2 && this.canSplit(rnt + rnc, depth + 1);
    let histL: Float64Array;
    let histR: Float64Array;
    if (!splitL && !splitR) {
      this.release(hist);
      if (this.honest) {
        this.countLeaf(left, rows, eBegin, eLeft);
        this.countLeaf(right, rows, eBegin + eLeft, eCount - eLeft);
      }
      return;
    }
    // smaller child from its rows, larger = parent - smaller (in the parent's buffer)
    const small = this.acquire();
    if (nLeft <= nRight) {
      this.histogram(small, rows, begin, nLeft);
      subtractHistogram(hist, hist, small, this.histSize);
      histL = small;
      histR = hist;
    } else {
      this.histogram(small, rows, begin + nLeft, nRight);
      subtractHistogram(hist, hist, small, this.histSize);
      histL = hist;
      histR = small;
    }
    this.growNode(left, rows, begin, nLeft, histL, depth + 1, lnt, lyt, lnc, lyc, lpt, lpc, eBegin, eLeft);
    this.growNode(right, rows, begin + nLeft, nRight, histR, depth + 1, rnt, ryt, rnc, ryc, rpt, rpc, eBegin + eLeft, eCount - eLeft);
  }

  /**
   * Best split of a node whose histogram is `hist` and totals (nt, yt, nc, yc), shrunk rates (pt, pc).
   * With `sample`, only a random subset of featuresPerNode features is tried (grower rng).
   * Returns the grower's result object (feature = -1 when no valid split has gain > 0).
   */
  findBestSplit(
    hist: Float64Array,
    nt: number,
    yt: number,
    nc: number,
    yc: number,
    pt: number,
    pc: number,
    sample = false,
  ): SplitResult {
    this.NT = nt; this.YT = yt; this.NC = nc; this.YC = yc; this.PT = pt; this.PC = pc;
    this.score = this.divergence(pt, pc);
    const best = this.best;
    best.gain = 0;
    best.feature = -1;
    best.leftCount = 0;
    const F = this.layout.columns.length;
    const order = this.featureOrder;
    for (let f = 0; f < F; f++) order[f] = f;
    let m = F;
    if (sample && this.params.featuresPerNode < F && this.rng) {
      m = Math.max(1, this.params.featuresPerNode);
      // partial Fisher-Yates: the first m entries become a uniform sample
      for (let i = 0; i < m; i++) {
        const j = i + this.rng.int(F - i);
        const tmp = order[i]; order[i] = order[j]; order[j] = tmp;
      }
    }
    for (let i = 0; i < m; i++) {
      const f = order[i];
      const base = this.layout.offset[f] * SLOTS;
      const B = this.layout.nBins[f];
      if (this.kinds[f] === 1) this.scanCategorical(hist, base, B, f);
      else this.scanNumeric(hist, base, B, f);
    }
    if (best.feature >= 0) {
      const d = this.divergence;
      const lnt = best.left[0], lnc = best.left[2];
      const { nReg, minSamplesTreatment: mst } = this.params;
      const lpt = lnt > mst ? (best.left[1] + pt * nReg) / (lnt + nReg) : pt;
      const lpc = lnc > mst ? (best.left[3] + pc * nReg) / (lnc + nReg) : pc;
      const rnt = nt - lnt, rnc = nc - lnc;
      const rpt = rnt > mst ? (yt - best.left[1] + pt * nReg) / (rnt + nReg) : pt;
      const rpc = rnc > mst ? (yc - best.left[3] + pc * nReg) / (rnc + nReg) : pc;
      best.importance = (lnt + lnc) * d(lpt, lpc) + (rnt + rnc) * d(rpt, rpc) - (nt + nc) * this.score;
    }
    return best;
  }

  /** Gain of the split whose left child has (lnt, lyt, lnc, lyc); -1 when the split is not valid. */
  private gainOf(lnt: number, lyt: number, lnc: number, lyc: number): number {
    const rnt = this.NT - lnt;
    const rnc = this.NC - lnc;
    const { minSamplesLeaf: msl, minSamplesTreatment: mst, nReg } = this.params;
    if (lnt < mst || lnc < mst || rnt < mst || rnc < mst) return -1;
    const nl = lnt + lnc;
    const nr = rnt + rnc;
    if (nl < msl || nr < msl || nl === 0 || nr === 0) return -1;
    const PT = this.PT, PC = this.PC;
    const lpt = lnt > mst ? (lyt + PT * nReg) / (lnt + nReg) : PT;
    const lpc = lnc > mst ? (lyc + PC * nReg) / (lnc + nReg) : PC;
    const rpt = rnt > mst ? (this.YT - lyt + PT * nReg) / (rnt + nReg) : PT;
    const rpc = rnc > mst ? (this.YC - lyc + PC * nReg) / (rnc + nReg) : PC;
    const d = this.divergence;
    let gain = (nl * d(lpt, lpc) + nr * d(rpt, rpc)) / (nl + nr) - this.score;
    if (gain <= 0) return gain;
    if (this.params.normalize) {
      // the normalisation is >= 1/2: skip computing it when even 2 * gain cannot beat the best so far
      if (2 * gain <= this.candGain) return 0;
      gain /= normalization(this.NT, this.NC, lnt, lnc);
    }
    return gain;
  }

  private consider(lnt: number, lyt: number, lnc: number, lyc: number, k: number, missingLeft: boolean): void {
    const g = this.gainOf(lnt, lyt, lnc, lyc);
    if (g > this.candGain) {
      this.candGain = g;
      this.candK = k;
      this.candMissingLeft = missingLeft;
      const c = this.candLeft;
      c[0] = lnt; c[1] = lyt; c[2] = lnc; c[3] = lyc;
    }
  }

  private scanNumeric(hist: Float64Array, base: number, B: number, f: number): void {
    const best = this.best;
    this.candGain = best.gain;
    this.candK = -1;
    const m0 = hist[base], m1 = hist[base + 1], m2 = hist[base + 2], m3 = hist[base + 3];
    const hasMissing = m0 + m2 > 0;
    if (hasMissing) this.consider(m0, m1, m2, m3, 0, true);
    let lnt = 0, lyt = 0, lnc = 0, lyc = 0;
    const maxT = this.params.maxThresholds;
    const step = maxT >= 256 ? 0 : (this.NT + this.NC) / maxT;
    let next = step;
    for (let b = 1; b < B; b++) {
      const o = base + b * SLOTS;
      const a0 = hist[o], a2 = hist[o + 2];
      if (a0 + a2 === 0) continue;
      lnt += a0; lyt += hist[o + 1]; lnc += a2; lyc += hist[o + 3];
      if (lnt + lnc < next) continue;
      next = lnt + lnc + step;
      this.consider(lnt, lyt, lnc, lyc, b, false);
      if (hasMissing) this.consider(lnt + m0, lyt + m1, lnc + m2, lyc + m3, b, true);
    }
    if (this.candK < 0) return;
    // record: left = bins 1..k, plus 0 when missing goes left (an empty missing bin follows the larger child)
    best.gain = this.candGain;
    best.feature = f;
    best.left.set(this.candLeft);
    const nl = this.candLeft[0] + this.candLeft[2];
    const missingLeft = hasMissing ? this.candMissingLeft : nl >= this.NT + this.NC - nl;
    let c = 0;
    if (missingLeft) best.leftBins[c++] = 0;
    const last = this.layout.lastBin[f];
    const kEnc = last ? last[this.candK] : this.candK; // coarse threshold -> encoder bin
    for (let b = 1; b <= kEnc; b++) best.leftBins[c++] = b;
    best.leftCount = c;
  }

  private scanCategorical(hist: Float64Array, base: number, B: number, f: number): void {
    const best = this.best;
    this.candGain = best.gain;
    this.candK = -1;
    const { nReg } = this.params;
    const PT = this.PT, PC = this.PC;
    const bins = this.catBins;
    const keys = this.catKeys;
    // non-empty levels with their shrunk uplift, insertion-sorted (stable: ties keep bin order)
    let L = 0;
    for (let b = 1; b < B; b++) {
      const o = base + b * SLOTS;
      const nt = hist[o], nc = hist[o + 2];
      if (nt + nc === 0) continue;
      const key = (hist[o + 1] + PT * nReg) / (nt + nReg) - (hist[o + 3] + PC * nReg) / (nc + nReg);
      let j = L - 1;
      while (j >= 0 && keys[j] > key) {
        keys[j + 1] = keys[j];
        bins[j + 1] = bins[j];
        j--;
      }
      keys[j + 1] = key;
      bins[j + 1] = b;
      L++;
    }
    const m0 = hist[base], m1 = hist[base + 1], m2 = hist[base + 2], m3 = hist[base + 3];
    const hasMissing = m0 + m2 > 0;
    if (hasMissing) this.consider(m0, m1, m2, m3, 0, true);
    let lnt = 0, lyt = 0, lnc = 0, lyc = 0;
    for (let j = 0; j < L; j++) {
      const o = base + bins[j] * SLOTS;
      lnt += hist[o]; lyt += hist[o + 1]; lnc += hist[o + 2]; lyc += hist[o + 3];
      this.consider(lnt, lyt, lnc, lyc, j + 1, false);
      if (hasMissing) this.consider(lnt + m0, lyt + m1, lnc + m2, lyc + m3, j + 1, true);
    }
    if (this.candK < 0) return;
    best.gain = this.candGain;
    best.feature = f;
    best.left.set(this.candLeft);
    const nl = this.candLeft[0] + this.candLeft[2];
    const leftLarger = nl >= this.NT + this.NC - nl;
    const missingLeft = hasMissing ? this.candMissingLeft : leftLarger;
    let c = 0;
    if (missingLeft) best.leftBins[c++] = 0;
    for (let j = 0; j < this.candK; j++) best.leftBins[c++] = bins[j];
    if (leftLarger) {
      // empty levels follow the larger child
      for (let b = 1; b < B; b++) {
        const o = base + b * SLOTS;
        if (hist[o] + hist[o + 2] === 0) best.leftBins[c++] = b;
      }
    }
    best.leftCount = c;
  }
}
