/**
 * Per-bin uplift histograms. A node's histogram covers every feature: feature f owns the slice
 * [offset[f] * 4, (offset[f] + nBins[f]) * 4) of one Float64Array, 4 slots per bin:
 * (n_treated, conv_treated, n_control, conv_control).
 *
 * Numeric features with more value bins than the layout allows are coarsened for the histograms only:
 * value bin b (1..V) falls in coarse bin 1 + floor((b - 1) * G / V) of G groups (the encoder's bins are
 * equal-frequency, so coarse bins are too); bin 0 (missing) stays 0. `lastBin[f][c]` maps a coarse
 * threshold back to the encoder's bins, so splits and prediction keep using the encoder's bins.
 */
import type { BinnedDataset } from '../types.js';

export const SLOTS = 4;

export interface HistogramLayout {
  /** First bin of feature f in the flat histogram (multiply by SLOTS for the array index). */
  offset: Int32Array;
  nBins: Int32Array;
  /** Total bins over all features; a histogram has totalBins * SLOTS entries. */
  totalBins: number;
  columns: Uint8Array[];
  /** Per row: (treated ? 0 : 2) | outcome, i.e. the slot of n within the bin plus the 0/1 outcome. */
  code: Uint8Array;
  /**
   * Row-major copy of the bins as global bin indices: packed[r * F + f] = offset[f] + bin of row r in
   * feature f. One row's features sit together, so a histogram pass touches one cache line per row.
   */
  packed: Uint16Array | Uint32Array;
  /** Per feature: for coarse bin c, the largest encoder bin inside it; null when not coarsened. */
  lastBin: (Int32Array | null)[];
  /** Row-major copy of the encoder bins, rowBins[r * F + f] (built lazily, for gathering row subsets). */
  rowBins?: Uint8Array;
}

/** `maxBins`: at most this many histogram bins per numeric feature, missing bin included (2..256). */
export function histogramLayout(data: BinnedDataset, maxBins = 256): HistogramLayout {
  const F = data.features.length;
  const offset = new Int32Array(F);
  const nBins = new Int32Array(F);
  const lastBin: (Int32Array | null)[] = [];
  const maps: (Uint8Array | null)[] = [];
  const cap = Math.max(2, Math.min(256, Math.floor(maxBins)));
  let total = 0;
  for (let f = 0; f < F; f++) {
    const feat = data.features[f];
    offset[f] = total;
    const V = feat.nBins - 1;
    const G = cap - 1;
    if (feat.kind === 'numeric' && V > G) {
      const map = new Uint8Array(feat.nBins);
      const last = new Int32Array(G + 1);
      for (let b = 1; b <= V; b++) {
        const c = 1 + Math.floor(((b - 1) * G) / V);
        map[b] = c;
        last[c] = b;
      }
      maps.push(map);
      lastBin.push(last);
      nBins[f] = G + 1;
    } else {
      maps.push(null);
      lastBin.push(null);
      nBins[f] = feat.nBins;
    }
    total += nBins[f];
  }
  const code = new Uint8Array(data.n);
  for (let i = 0; i < data.n; i++) code[i] = (data.treatment[i] === 1 ? 0 : 2) | (data.outcome[i] === 1 ? 1 : 0);
  const columns = data.features.map((f) => f.bins);
  const packed = total <= 65536 ? new Uint16Array(data.n * F) : new Uint32Array(data.n * F);
  for (let f = 0; f < F; f++) {
    const col = columns[f];
    const off = offset[f];
    const map = maps[f];
    if (map) for (let i = 0, p = f; i < data.n; i++, p += F) packed[p] = off + map[col[i]];
    else for (let i = 0, p = f; i < data.n; i++, p += F) packed[p] = off + col[i];
  }
  return { offset, nBins, totalBins: total, columns, code, packed, lastBin };
}

/** The row-major encoder bins of `layout` (built on first use). */
export function rowMajorBins(layout: HistogramLayout): Uint8Array {
  if (layout.rowBins) return layout.rowBins;
  const F = layout.columns.length;
  const n = layout.code.length;
  const out = new Uint8Array(n * F);
  for (let f = 0; f < F; f++) {
    const col = layout.columns[f];
    for (let i = 0, p = f; i < n; i++, p += F) out[p] = col[i];
  }
  layout.rowBins = out;
  return out;
}

/** Fills `hist` with the histogram of rows[begin, begin + count) over every feature. */
export function buildHistogram(
  layout: HistogramLayout,
  hist: Float64Array,
  rows: Uint32Array,
  begin: number,
  count: number,
): void {
  hist.fill(0, 0, layout.totalBins * SLOTS);
  const code = layout.code;
  const packed = layout.packed;
  const end = begin + count;
  const F = layout.columns.length;
  const F4 = F & ~3;
  for (let k = begin; k < end; k++) {
    const r = rows[k];
    const c = code[r];
    const t = c & 2;
    const y = c & 1;
    const p = r * F;
    let f = 0;
    // four features per step (about twice as fast as one: independent address computations overlap)
    for (; f < F4; f += 4) {
      const o0 = packed[p + f] * SLOTS + t;
      const o1 = packed[p + f + 1] * SLOTS + t;
      const o2 = packed[p + f + 2] * SLOTS + t;
      const o3 = packed[p + f + 3] * SLOTS + t;
      hist[o0] += 1; hist[o0 + 1] += y;
      hist[o1] += 1; hist[o1 + 1] += y;
      hist[o2] += 1; hist[o2 + 1] += y;
      hist[o3] += 1; hist[o3 + 1] += y;
    }
    for (; f < F; f++) {
      const o = packed[p + f] * SLOTS + t;
      hist[o] += 1;
      hist[o + 1] += y;
    }
  }
}

/**
 * As buildHistogram, each row counted weight[row] times (bootstrap multiplicities; rows with weight 0
 * should not be in the slice at all).
 */
export function buildWeightedHistogram(
  layout: HistogramLayout,
  hist: Float64Array,
  rows: Uint32Array,
  begin: number,
  count: number,
  weight: Uint8Array,
): void {
  hist.fill(0, 0, layout.totalBins * SLOTS);
  const code = layout.code;
  const packed = layout.packed;
  const end = begin + count;
  const F = layout.columns.length;
  const F4 = F & ~3;
  for (let k = begin; k < end; k++) {
    const r = rows[k];
    const c = code[r];
    const t = c & 2;
    const w = weight[r];
    const wy = (c & 1) * w;
    const p = r * F;
    let f = 0;
    for (; f < F4; f += 4) {
      const o0 = packed[p + f] * SLOTS + t;
      const o1 = packed[p + f + 1] * SLOTS + t;
      const o2 = packed[p + f + 2] * SLOTS + t;
      const o3 = packed[p + f + 3] * SLOTS + t;
      hist[o0] += w; hist[o0 + 1] += wy;
      hist[o1] += w; hist[o1 + 1] += wy;
      hist[o2] += w; hist[o2 + 1] += wy;
      hist[o3] += w; hist[o3 + 1] += wy;
    }
    for (; f < F; f++) {
      const o = packed[p + f] * SLOTS + t;
      hist[o] += w;
      hist[o + 1] += wy;
    }
  }
}

/** target = parent - child (entry-wise), the larger child's histogram from the smaller one. */
export function subtractHistogram(target: Float64Array, parent: Float64Array, child: Float64Array, length: number): void {
  for (let i = 0; i < length; i++) target[i] = parent[i] - child[i];
}
