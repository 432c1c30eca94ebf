/**
 * RawDataset -> BinnedDataset (see BinnedFeature in ../types.ts; bin 0 = missing everywhere).
 *
 * Numeric: the present values are sorted once. With at most `maxBins` distinct values, each distinct
 * value gets its own bin (upper edge = the value itself). Otherwise the edges are exact empirical
 * quantiles: edge q (q = 1..maxBins-1) is the sorted value at rank ceil(q * m / maxBins) - 1, duplicates
 * removed, an edge equal to the maximum dropped (so the open-ended last bin is never empty).
 * Bin of v = 1 + number of edges < v (binary search), i.e. the first bin b >= 1 with v <= upper[b-1].
 *
 * Categorical: level counts; levels with >= rareMin rows are kept, most frequent first (ties: first
 * appearance), at most min(maxLevels, 255) of them - 254 when an "other" bin is needed. All remaining
 * levels are pooled into one "(other)" bin, created only when something is pooled.
 *
 * A feature whose present values fall into at most one bin (all missing, or a single distinct value,
 * or only one non-empty level bin after pooling) is dropped and listed in report.droppedConstant.
 */
import type { BinnedDataset, BinnedFeature, EncodeReport, RawDataset, RawFeature } from '../types.js';

export interface EncodeOptions {
  /** Value bins for numeric features (the missing bin comes on top); 2..255, default 255. */
  maxBins?: number;
  /** Categorical levels seen in fewer rows than this are pooled into "other"; default 100. */
  rareMin?: number;
  /** Upper bound on kept categorical levels (further capped so nBins <= 256); default 255. */
  maxLevels?: number;
}

export const DEFAULT_MAX_BINS = 255;
export const DEFAULT_RARE_MIN = 100;

/** Upper edges for sorted present values `sorted` (ascending, length m >= 1). */
export function quantileEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const m = sorted.length;
  // Distinct values (bounded count: stop once we know there are more than maxBins).
  const distinct: number[] = [];
  for (let i = 0; i < m; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct.push(sorted[i]);
      if (distinct.length > maxBins) break;
    }
  }
  if (distinct.length <= maxBins) {
    return Float64Array.from(distinct.slice(0, distinct.length - 1));
  }
  const max = sorted[m - 1];
  const edges: number[] = [];
  for (let q = 1; q < maxBins; q++) {
    const rank = Math.ceil((q * m) / maxBins) - 1;
    const e = sorted[rank < 0 ? 0 : rank];
    if (e >= max) break;
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

/** Bin (>= 1) of a present value given upper edges: 1 + count of edges strictly below v. */
export function binOf(upper: Float64Array, v: number): number {
  let lo = 0;
  let hi = upper.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (upper[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

function encodeNumeric(f: Extract<RawFeature, { kind: 'numeric' }>, n: number, maxBins: number): BinnedFeature | null {
  const values = f.values;
  // Fast path: few distinct values (counts, codes, ages) need no full sort - collect them in a Map
  // and give up as soon as there are more than maxBins.
  const seen = new Map<number, number>();
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) continue;
    m++;
    if (seen.size <= maxBins && !seen.has(v)) seen.set(v, 0);
  }
  if (m === 0 || seen.size <= 1) return null;
  const bins = new Uint8Array(n);
  if (seen.size <= maxBins) {
    const distinct = Float64Array.from(seen.keys()).sort();
    for (let k = 0; k < distinct.length; k++) seen.set(distinct[k], k + 1);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      bins[i] = v === v ? (seen.get(v) as number) : 0;
    }
    return { name: f.name, kind: 'numeric', nBins: distinct.length + 1, bins, upper: distinct.slice(0, distinct.length - 1) };
  }
  const sorted = new Float64Array(m);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === v) sorted[k++] = v;
  }
  sorted.sort();
  const upper = quantileEdges(sorted, maxBins);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    bins[i] = v === v ? binOf(upper, v) : 0;
  }
  return { name: f.name, kind: 'numeric', nBins: upper.length + 2, bins, upper };
}

function encodeCategorical(
  f: Extract<RawFeature, { kind: 'categorical' }>,
  n: number,
  rareMin: number,
  maxLevels: number,
  report: EncodeReport,
): BinnedFeature | null {
  const L = f.levels.length;
  const codes = f.codes;
  const counts = new Float64Array(L);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    if (c >= 0) counts[c]++;
  }
  const present: number[] = [];
  for (let l = 0; l < L; l++) if (counts[l] > 0) present.push(l);
  if (present.length <= 1) return null;
  const frequent = present.filter((l) => counts[l] >= rareMin);
  frequent.sort((a, b) => counts[b] - counts[a] || a - b);
  let keep = Math.min(frequent.length, maxLevels, 255);
  if (keep < present.length) keep = Math.min(keep, 254); // room for the "other" bin
  const kept = frequent.slice(0, keep);
  const pooledLevels = present.length - kept.length;
  if (kept.length + (pooledLevels > 0 ? 1 : 0) <= 1) return null; // everything in one bin
  const map = new Int32Array(L); // level code -> bin
  const otherBin = pooledLevels > 0 ? kept.length + 1 : -1;
  map.fill(otherBin);
  const labels = ['(missing)'];
  for (let j = 0; j < kept.length; j++) {
    map[kept[j]] = j + 1;
    labels.push(f.levels[kept[j]]);
  }
  let pooledRows = 0;
  if (pooledLevels > 0) {
    labels.push('(other)');
    for (let l = 0; l < L; l++) if (map[l] === otherBin) pooledRows += counts[l];
    report.pooled.push({ feature: f.name, levels: pooledLevels, rows: pooledRows });
  }
  const bins = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    bins[i] = c >= 0 ? map[c] : 0;
  }
  const out: BinnedFeature = { name: f.name, kind: 'categorical', nBins: labels.length, bins, labels };
  if (otherBin > 0) out.otherBin = otherBin;
  return out;
}

export function encode(raw: RawDataset, opts: EncodeOptions = {}): BinnedDataset {
  const maxBins = Math.max(2, Math.min(255, Math.floor(opts.maxBins ?? DEFAULT_MAX_BINS)));
  const rareMin = Math.max(1, opts.rareMin ?? DEFAULT_RARE_MIN);
  const maxLevels = Math.max(1, Math.floor(opts.maxLevels ?? 255));
  const report: EncodeReport = { droppedConstant: [], pooled: [] };
  const features: BinnedFeature[] = [];
  for (const f of raw.features) {
    const b =
      f.kind === 'numeric'
        ? encodeNumeric(f, raw.n, maxBins)
        : encodeCategorical(f, raw.n, rareMin, maxLevels, report);
    if (b === null) report.droppedConstant.push(f.name);
    else features.push(b);
  }
  return { n: raw.n, treatment: raw.treatment, outcome: raw.outcome, features, report };
}
