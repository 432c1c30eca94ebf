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
 * Row-major copy of the bin columns: packed[r * F + f] = columns[f][r]. Built once per fit, so that a
 * row's bins for all features sit in one cache line while a node's histogram is accumulated (about 2x
 * faster than feature-by-feature passes over the column-major data).
 */
export function packRows(columns: readonly Uint8Array[], n: number): Uint8Array {
  const F = columns.length;
  const packed = new Uint8Array(n * F);
  for (let f = 0; f < F; f++) {
    const col = columns[f];
    for (let r = 0, i = f; r < n; r++, i += F) packed[i] = col[r];
  }
  return packed;
}

/**
 * Builds the histogram of rows[begin, begin+count) for the listed features (`feats[0..nFeats)`) into
 * hist at `base`. Only the listed features' ranges are zeroed and written. `packed` is packRows(...)
 * of the F = `nFeatures` columns; g/h are gradients/hessians indexed by row; `fo` is scratch of at
 * least nFeats entries. The feature loop is unrolled by 4 (measured ~1.8x faster in V8 than the plain
 * loop: independent read-modify-writes overlap).
 */
export function buildHistogram(
  hist: Float64Array,
  base: number,
  packed: Uint8Array,
  nFeatures: number,
  offsets: Int32Array,
  feats: Int32Array,
  nFeats: number,
  rows: Uint32Array,
  begin: number,
  count: number,
  g: Float64Array,
  h: Float64Array,
  fo: Int32Array,
): void {
  const end = begin + count;
  const F = nFeatures;
  for (let fi = 0; fi < nFeats; fi++) {
    const f = feats[fi];
    fo[fi] = base + offsets[f] * HIST_SLOTS;
    hist.fill(0, fo[fi], base + offsets[f + 1] * HIST_SLOTS);
  }
  const F4 = nFeats & ~3;
  if (nFeats === F) {
    // all features: feats is the identity, packed columns are read in order
    for (let k = begin; k < end; k++) {
      const r = rows[k];
      const gr = g[r];
      const hr = h[r];
      const pb = r * F;
      let f = 0;
      for (; f < F4; f += 4) {
        const i1 = fo[f] + packed[pb + f] * HIST_SLOTS;
        const i2 = fo[f + 1] + packed[pb + f + 1] * HIST_SLOTS;
        const i3 = fo[f + 2] + packed[pb + f + 2] * HIST_SLOTS;
        const i4 = fo[f + 3] + packed[pb + f + 3] * HIST_SLOTS;
        hist[i1] += gr;
        hist[i1 + 1] += hr;
        hist[i1 + 2] += 1;
        hist[i2] += gr;
        hist[i2 + 1] += hr;
        hist[i2 + 2] += 1;
        hist[i3] += gr;
        hist[i3 + 1] += hr;
        hist[i3 + 2] += 1;
        hist[i4] += gr;
        hist[i4 + 1] += hr;
        hist[i4 + 2] += 1;
      }
      for (; f < F; f++) {
        const i1 = fo[f] + packed[pb + f] * HIST_SLOTS;
        hist[i1] += gr;
        hist[i1 + 1] += hr;
        hist[i1 + 2] += 1;
      }
    }
    return;
  }
  for (let k = begin; k < end; k++) {
    const r = rows[k];
    const gr = g[r];
    const hr = h[r];
    const pb = r * F;
    for (let fi = 0; fi < nFeats; fi++) {
      const i1 = fo[fi] + packed[pb + feats[fi]] * HIST_SLOTS;
      hist[i1] += gr;
      hist[i1 + 1] += hr;
      hist[i1 + 2] += 1;
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

/**
 * Stable in-place partition of rows[begin, begin+count): rows whose bin is in the 256-bit `leftSet`
 * (flat.ts representation) first, both sides keeping their order; returns the left count. Keeping the
 * rows sorted by index keeps every later pass over a node (histograms, gradients) a forward scan of
 * memory. `scratch` needs `count` entries.
 */
export function partitionStable(
  rows: Uint32Array,
  begin: number,
  count: number,
  bins: Uint8Array,
  leftSet: Uint32Array,
  scratch: Uint32Array,
): number {
  let w = begin;
  let nr = 0;
  const end = begin + count;
  for (let k = begin; k < end; k++) {
    const r = rows[k];
    const b = bins[r];
    if (((leftSet[b >>> 5] >>> (b & 31)) & 1) === 1) rows[w++] = r;
    else scratch[nr++] = r;
  }
  for (let i = 0; i < nr; i++) rows[w + i] = scratch[i];
  return w - begin;
}
