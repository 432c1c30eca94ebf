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
  return { offset, nBins, totalBins: total, columns: data.features.map((f) => f.bins), code };
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
  const end = begin + count;
  const F = layout.columns.length;
  for (let f = 0; f < F; f++) {
    const col = layout.columns[f];
    const base = layout.offset[f] * SLOTS;
    for (let k = begin; k < end; k++) {
      const r = rows[k];
      const c = code[r];
      const o = base + col[r] * SLOTS + (c & 2);
      hist[o] += 1;
      hist[o + 1] += c & 1;
    }
  }
}

/** target = parent - child (entry-wise), the larger child's histogram from the smaller one. */
export function subtractHistogram(target: Float64Array, parent: Float64Array, child: Float64Array, length: number): void {
  for (let i = 0; i < length; i++) target[i] = parent[i] - child[i];
}
