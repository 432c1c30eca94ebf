/**
 * Per-bin uplift histograms. A node's histogram covers every feature: feature f owns the slice
 * [offset[f] * 4, (offset[f] + nBins[f]) * 4) of one Float64Array, 4 slots per bin:
 * (n_treated, conv_treated, n_control, conv_control).
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
}

export function histogramLayout(data: BinnedDataset): HistogramLayout {
  const F = data.features.length;
  const offset = new Int32Array(F);
  const nBins = new Int32Array(F);
  let total = 0;
  for (let f = 0; f < F; f++) {
    offset[f] = total;
    nBins[f] = data.features[f].nBins;
    total += nBins[f];
  }
  const code = new Uint8Array(data.n);
  for (let i = 0; i < data.n; i++) code[i] = (data.treatment[i] === 1 ? 0 : 2) | (data.outcome[i] === 1 ? 1 : 0);
  const columns = data.features.map((f) => f.bins);
  const packed = total <= 65536 ? new Uint16Array(data.n * F) : new Uint32Array(data.n * F);
  for (let f = 0; f < F; f++) {
    const col = columns[f];
    const off = offset[f];
    for (let i = 0, p = f; i < data.n; i++, p += F) packed[p] = off + col[i];
  }
  return { offset, nBins, totalBins: total, columns, code, packed };
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
  for (let k = begin; k < end; k++) {
    const r = rows[k];
    const c = code[r];
    const t = c & 2;
    const y = c & 1;
    const p = r * F;
    for (let f = 0; f < F; f++) {
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
  for (let k = begin; k < end; k++) {
    const r = rows[k];
    const c = code[r];
    const t = c & 2;
    const w = weight[r];
    const wy = (c & 1) * w;
    const p = r * F;
    for (let f = 0; f < F; f++) {
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
