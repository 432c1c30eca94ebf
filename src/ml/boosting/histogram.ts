/**
 * Gradient/hessian histograms for histogram gradient boosting.
 *
 * Layout: one flat Float64Array holds, for every feature f and bin b, three slots at
 * `base + (featOffset[f] + b) * 3`: sum of gradients, sum of hessians, row count. `featOffset` is the
 * running sum of the features' nBins, so a node's histogram is `totalBins * 3` doubles. A pool of such
 * histograms lives in one Float64Array (one per open leaf); children are derived from parents by
 * subtraction (LightGBM / scikit-learn HistGradientBoosting "histogram subtraction trick").
 */

export const HIST_SLOTS = 3;

/** Per-feature bin offsets (prefix sums of nBins) and the total number of bins. */
export function featureOffsets(nBins: ArrayLike<number>): { offsets: Int32Array; totalBins: number } {
  const offsets = new Int32Array(nBins.length + 1);
  for (let f = 0; f < nBins.length; f++) offsets[f + 1] = offsets[f] + nBins[f];
  return { offsets, totalBins: offsets[nBins.length] };
}

/**
 * Builds the histogram of rows[begin, begin+count) for the listed features into hist at `base`.
 * Only the ranges of the listed features are zeroed and written. `gOrd`/`hOrd` are scratch arrays of at
 * least `count` entries: gradients are gathered once into row order (LightGBM's "ordered gradients"),
 * so the per-feature loops read them sequentially.
 */
export function buildHistogram(
  hist: Float64Array,
  base: number,
  columns: readonly Uint8Array[],
  offsets: Int32Array,
  feats: Int32Array,
  nFeats: number,
  rows: Uint32Array,
  begin: number,
  count: number,
  g: Float64Array,
  h: Float64Array,
  gOrd: Float64Array,
  hOrd: Float64Array,
): void {
  const end = begin + count;
  for (let k = begin, j = 0; k < end; k++, j++) {
    const r = rows[k];
    gOrd[j] = g[r];
    hOrd[j] = h[r];
  }
  for (let fi = 0; fi < nFeats; fi++) {
    const f = feats[fi];
    const col = columns[f];
    const fb = base + offsets[f] * HIST_SLOTS;
    hist.fill(0, fb, base + offsets[f + 1] * HIST_SLOTS);
    for (let k = begin, j = 0; k < end; k++, j++) {
      const idx = fb + col[rows[k]] * HIST_SLOTS;
      hist[idx] += gOrd[j];
      hist[idx + 1] += hOrd[j];
      hist[idx + 2] += 1;
    }
  }
}

/**
 * In place: hist[parentBase..] -= hist[smallerBase..] over the listed features' ranges, turning the
 * parent's histogram into the larger child's (parent = left + right, so right = parent - left).
 */
export function subtractHistogram(
  hist: Float64Array,
  parentBase: number,
  smallerBase: number,
  offsets: Int32Array,
  feats: Int32Array,
  nFeats: number,
): void {
  for (let fi = 0; fi < nFeats; fi++) {
    const f = feats[fi];
    const from = offsets[f] * HIST_SLOTS;
    const to = offsets[f + 1] * HIST_SLOTS;
    const d = smallerBase - parentBase;
    for (let i = parentBase + from, e = parentBase + to; i < e; i++) hist[i] -= hist[i + d];
  }
}
