/**
 * Best-split search of one node of a histogram gradient-boosting tree (second-order / Newton boosting).
 *
 * Gain of a split (Chen & Guestrin 2016, XGBoost eq. 7; LightGBM uses the same form):
 *   gain = 1/2 * [ G_L^2/(H_L+l2) + G_R^2/(H_R+l2) - G^2/(H+l2) ]
 * where G, H are the sums of gradients and hessians of the rows on each side.
 *
 * Numeric features: every threshold between consecutive bins 1..nBins-1, with the missing bin 0 tried
 * on the left and on the right; if the node has no missing rows, missing (for prediction) goes to the
 * child with more rows (scikit-learn HistGradientBoosting's rule).
 * Categorical features (LightGBM's many-vs-many categorical split, Fisher 1958 ordering): the node's
 * non-empty bins (bin 0 = missing included, as one more level) are sorted by G_b/(H_b + catSmooth) and
 * every prefix of that order is tried as the left set. Bins with fewer than `minDataPerGroup` rows are
 * kept out of the ordering and always go right, like empty bins. The children's terms use
 * l2 + catL2 (LightGBM's cat_l2), which penalises categorical splits against numeric ones.
 */
import { HIST_SLOTS } from './histogram.js';
import { WORDS_PER_SET } from '../tree/flat.js';

export interface SplitParams {
  l2: number;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  minGain: number;
  catSmooth: number;
  catL2: number;
  minDataPerGroup: number;
  /**
   * Multiple-comparison penalty: a feature's best gain is reduced by gainPenalty * ln(K), K = the number
   * of distinct partitions its scan tried in this node (about the expected maximum of K null gains,
   * since a gain is ~ chi2(1)/2 with tail e^-x). Counters the pull of many-binned features towards noise
   * splits (the selection bias of exhaustive split search; cf. Loh's GUIDE, Hothorn's ctree). 0 = off.
   */
  gainPenalty: number;
  /**
   * Extra penalty per additional group of a categorical split: catGainPenalty * (K - 1), K + 1 = groups
   * ordered. The best ordered split of L noise groups gains about chi2(L-1)/2, growing linearly in L,
   * not like ln L. 0 = off.
   */
  catGainPenalty: number;
}

/** A node's best split (reused object). `gain = -Infinity` when the node has no valid split. */
export class SplitResult {
  /** Gain used for choosing: the loss reduction minus the feature's multiple-comparison penalty. */
  gain = -Infinity;
  /** The loss reduction itself (what importance adds up). */
  rawGain = 0;
  feature = -1;
  /** 256-bit set of the bins that go left (flat.ts representation). */
  readonly leftSet = new Uint32Array(WORDS_PER_SET);
  gl = 0;
  hl = 0;
  nl = 0;
  gr = 0;
  hr = 0;
  nr = 0;

  reset(): void {
    this.gain = -Infinity;
    this.feature = -1;
  }
}

export class SplitFinder {
  private readonly order = new Int32Array(256);
  private readonly key = new Float64Array(256);

  constructor(
    private readonly isCategorical: Uint8Array,
    private readonly nBins: Int32Array,
    private readonly offsets: Int32Array,
    private readonly p: SplitParams,
  ) {}

  /**
   * Finds the best split of the node whose histogram is at `base` in `hist`, over the listed features.
   * G, H, N are the node's totals. Writes the result into `out` (gain = -Infinity if none is valid).
   */
  find(
    hist: Float64Array,
    base: number,
    feats: Int32Array,
    nFeats: number,
    G: number,
    H: number,
    N: number,
    out: SplitResult,
  ): void {
    out.reset();
    const { l2, minSamplesLeaf, minHessianLeaf, minGain } = this.p;
    const minLeaf = Math.max(1, minSamplesLeaf);
    if (N < 2 * minLeaf || H < 2 * minHessianLeaf) return;
    const parentScore = (G * G) / (H + l2);
    // Best over all features, as a raw score sum (children's terms); converted to gain at the end.
    let bestGain = minGain > 0 ? minGain : 0;
    const beta = this.p.gainPenalty;
    for (let fi = 0; fi < nFeats; fi++) {
      const f = feats[fi];
      const fb = base + this.offsets[f] * HIST_SLOTS;
      const nb = this.nBins[f];
      const cat = this.isCategorical[f] === 1;
      let pen = 0;
      if (beta > 0 || (cat && this.p.catGainPenalty > 0)) {
        const K = Math.max(1, this.candidates(hist, fb, nb, cat));
        pen = beta * Math.log(K) + (cat ? this.p.catGainPenalty * (K - 1) : 0);
      }
      const threshold = bestGain + pen;
      // a scan records into `out` and returns a larger value only when it beats `threshold`
      const r = cat
        ? this.scanCategorical(hist, fb, nb, f, G, H, N, parentScore, minLeaf, threshold, out)
        : this.scanNumeric(hist, fb, nb, f, G, H, N, parentScore, minLeaf, threshold, out);
      if (r > threshold) {
        bestGain = r - pen;
        out.rawGain = r;
        out.gain = bestGain;
      }
    }
  }

  /** Number of distinct partitions the scan of this feature tries in this node (for the penalty). */
  private candidates(hist: Float64Array, fb: number, nb: number, cat: boolean): number {
    if (cat) {
      const minGroup = Math.max(1, this.p.minDataPerGroup);
      let groups = 0;
      let small = 0;
      for (let b = 0; b < nb; b++) {
        const c = hist[fb + b * HIST_SLOTS + 2];
        if (c >= minGroup) groups++;
        else if (c > 0) small = 1;
      }
      return groups - 1 + small;
    }
    let present = 0;
    for (let b = 1; b < nb; b++) if (hist[fb + b * HIST_SLOTS + 2] > 0) present++;
    const miss = hist[fb + 2] > 0 ? 1 : 0;
    return (present - 1) * (1 + miss) + miss;
  }

  private scanNumeric(
    hist: Float64Array,
    fb: number,
    nb: number,
    f: number,
    G: number,
    H: number,
    N: number,
    parentScore: number,
    minLeaf: number,
    bestGain: number,
    out: SplitResult,
  ): number {
    const l2 = this.p.l2;
    const minH = this.p.minHessianLeaf;
    const g0 = hist[fb];
    const h0 = hist[fb + 1];
    const n0 = hist[fb + 2];
    let gl = 0;
    let hl = 0;
    let nl = 0;
    let bestT = -1;
    let bestMissLeft = false;
    let localBest = bestGain;
    for (let t = 1; t < nb; t++) {
      const idx = fb + t * HIST_SLOTS;
      const cnt = hist[idx + 2];
      gl += hist[idx];
      hl += hist[idx + 1];
      nl += cnt;
      if (cnt === 0 && t > 1) continue; // same partition as threshold t-1
      // missing (bin 0) goes right: left = bins 1..t
      {
        const nr = N - nl;
        const hr = H - hl;
        if (nl >= minLeaf && nr >= minLeaf && hl >= minH && hr >= minH) {
          const gr = G - gl;
          const gain = 0.5 * ((gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore);
          if (gain > localBest) {
            localBest = gain;
            bestT = t;
            bestMissLeft = false;
          }
        }
      }
      // missing goes left: left = bins 0..t (only meaningful when the node has missing rows)
      if (n0 > 0 && t < nb - 1) {
        const gL = gl + g0;
        const hL = hl + h0;
        const nL = nl + n0;
        const nr = N - nL;
        const hr = H - hL;
        if (nL >= minLeaf && nr >= minLeaf && hL >= minH && hr >= minH) {
          const gr = G - gL;
          const gain = 0.5 * ((gL * gL) / (hL + l2) + (gr * gr) / (hr + l2) - parentScore);
          if (gain > localBest) {
            localBest = gain;
            bestT = t;
            bestMissLeft = true;
          }
        }
      }
    }
    if (bestT < 0) return bestGain;
    // Materialise the winner: left = bins 1..bestT (+ bin 0 when missing goes left).
    let sg = 0;
    let sh = 0;
    let sn = 0;
    for (let t = 1; t <= bestT; t++) {
      const idx = fb + t * HIST_SLOTS;
      sg += hist[idx];
      sh += hist[idx + 1];
      sn += hist[idx + 2];
    }
    let missLeft = bestMissLeft;
    if (n0 > 0) {
      if (missLeft) {
        sg += g0;
        sh += h0;
        sn += n0;
      }
    } else {
      missLeft = sn > N - sn; // no missing rows here: unseen missing values follow the larger child
    }
    const set = out.leftSet;
    set.fill(0);
    for (let t = missLeft ? 0 : 1; t <= bestT; t++) set[t >>> 5] |= 1 << (t & 31);
    this.record(out, f, localBest, sg, sh, sn, G, H, N);
    return localBest;
  }

  private scanCategorical(
    hist: Float64Array,
    fb: number,
    nb: number,
    f: number,
    G: number,
    H: number,
    N: number,
    parentScore: number,
    minLeaf: number,
    bestGain: number,
    out: SplitResult,
  ): number {
    const lc = this.p.l2 + this.p.catL2;
    const minH = this.p.minHessianLeaf;
    const smooth = this.p.catSmooth;
    const minGroup = Math.max(1, this.p.minDataPerGroup);
    const order = this.order;
    const key = this.key;
    let cnt = 0;
    for (let b = 0; b < nb; b++) {
      const idx = fb + b * HIST_SLOTS;
      if (hist[idx + 2] < minGroup) continue;
      const k = hist[idx] / (hist[idx + 1] + smooth);
      // insertion sort by key (stable: equal keys keep bin order)
      let i = cnt++;
      while (i > 0 && key[i - 1] > k) {
        key[i] = key[i - 1];
        order[i] = order[i - 1];
        i--;
      }
      key[i] = k;
      order[i] = b;
    }
    if (cnt === 0) return bestGain;
    let gl = 0;
    let hl = 0;
    let nl = 0;
    let bestK = -1;
    let localBest = bestGain;
    for (let i = 0; i < cnt; i++) {
      const idx = fb + order[i] * HIST_SLOTS;
      gl += hist[idx];
      hl += hist[idx + 1];
      nl += hist[idx + 2];
      const nr = N - nl;
      const hr = H - hl;
      if (nl >= minLeaf && nr >= minLeaf && hl >= minH && hr >= minH) {
        const gr = G - gl;
        const gain = 0.5 * ((gl * gl) / (hl + lc) + (gr * gr) / (hr + lc) - parentScore);
        if (gain > localBest) {
          localBest = gain;
          bestK = i + 1;
        }
      }
    }
    if (bestK < 0) return bestGain;
    const set = out.leftSet;
    set.fill(0);
    let sg = 0;
    let sh = 0;
    let sn = 0;
    for (let i = 0; i < bestK; i++) {
      const b = order[i];
      const idx = fb + b * HIST_SLOTS;
      sg += hist[idx];
      sh += hist[idx + 1];
      sn += hist[idx + 2];
      set[b >>> 5] |= 1 << (b & 31);
    }
    this.record(out, f, localBest, sg, sh, sn, G, H, N);
    return localBest;
  }

  private record(
    out: SplitResult,
    f: number,
    gain: number,
    gl: number,
    hl: number,
    nl: number,
    G: number,
    H: number,
    N: number,
  ): void {
    out.gain = gain;
    out.feature = f;
    out.gl = gl;
    out.hl = hl;
    out.nl = nl;
    out.gr = G - gl;
    out.hr = H - hl;
    out.nr = N - nl;
  }
}
