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
 * or only one non-empty level bin after pooling) is dropped and listed in report.droppedConstant; one
 * dropped because all its (two or more) levels were rare is also listed in report.droppedAllRare.
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
  if (kept.length + (pooledLevels > 0 ? 1 : 0) <= 1) {
    // everything in one bin; say why when it had several levels, all of them rare
    if (kept.length === 0) report.droppedAllRare?.push(f.name);
    return null;
  }
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
  const out: BinnedFeature & { pooledLevels?: PooledLevels } = { name: f.name, kind: 'categorical', nBins: labels.length, bins, labels };
  if (otherBin > 0) {
    out.otherBin = otherBin;
    // Keep the pooled levels' identities (not their names) for the within-fit refinement below, when
    // there are at least two of them and they hold REFINE_MIN_ROWS_PER_LEVEL rows each on average (an
    // id-like column, one row a level, carries nothing a fit could estimate).
    // At most REFINE_MAX_LEVELS of them (Uint16 codes; bounds a fit's per-level counts to a few MB).
    if (pooledLevels >= 2 && pooledLevels <= REFINE_MAX_LEVELS && pooledRows >= REFINE_MIN_ROWS_PER_LEVEL * pooledLevels) {
      const pmap = new Int32Array(L).fill(-1);
      let q = 0;
      for (let l = 0; l < L; l++) if (map[l] === otherBin && counts[l] > 0) pmap[l] = q++;
      const pc = new Uint16Array(n);
      const none = 65535;
      for (let i = 0; i < n; i++) {
        const c = codes[i];
        pc[i] = c >= 0 && pmap[c] >= 0 ? pmap[c] : none;
      }
      out.pooledLevels = { codes: pc, nLevels: q, none };
    }
  }
  return out;
}

export function encode(raw: RawDataset, opts: EncodeOptions = {}): BinnedDataset {
  const maxBins = Math.max(2, Math.min(255, Math.floor(opts.maxBins ?? DEFAULT_MAX_BINS)));
  const rareMin = Math.max(1, opts.rareMin ?? DEFAULT_RARE_MIN);
  const maxLevels = Math.max(1, Math.floor(opts.maxLevels ?? 255));
  const report: EncodeReport = { droppedConstant: [], pooled: [], droppedAllRare: [], rareMin };
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

// ---------------------------------------------------------------------------------------------------
// Within-fit refinement of a pooled "(other)" bin (issue 2, highcard).
//
// Pooling levels with < rareMin rows keeps every bin estimable, but on a high-cardinality feature most
// rows can end up in "(other)" and lose what their own level says. A fit can recover part of it without
// leakage: an uplift target encoding of the pooled levels, computed from THAT FIT'S training rows only
// (Micci-Barreca 2001, "A preprocessing scheme for high-cardinality categorical attributes": shrunk
// per-level target statistics; here the target is the level's treated - control rate difference).
// - Per level l (training rows in "(other)" only): raw uplift u_l = y_t/n_t - y_c/n_c with sampling
//   variance v_l = P_t(1-P_t)/n_t + P_c(1-P_c)/n_c (P = the pooled bin's arm rates). The between-level
//   variance s2 of the true uplift is the DerSimonian & Laird (1986) moment estimate,
//   s2 = max(0, (Q - (k - 1)) / (S1 - S2/S1)), Q = sum w_l (u_l - u_w)^2, w_l = 1/v_l; each level's
//   encoding is the empirical-Bayes posterior mean u0 + s2/(s2 + v_l) (u_l - u0) (Efron & Morris 1975),
//   u0 = the pooled bin's uplift (a level missing one arm gets u0).
// - Refinement only when the heterogeneity test says so: (Q - (k-1)) / sqrt(2 (k-1)) > REFINE_Z
//   (Q ~ chi2(k-1) without between-level differences); otherwise the fit sees the feature as encoded.
// - The pooled bin is split into `groups` bins by the encoding's row quantiles (the old "(other)" bin is
//   group 0, new bins after the last one). Training rows get their group CROSS-FITTED (CatBoost-style
//   out-of-fold target statistics, Prokhorenkova et al. 2018): the training rows are dealt into
//   REFINE_PARTS parts by a fixed hash of the row index (refinePart), and a row's encoding comes from the other parts only,
//   so a tree never sees a row's own outcome in its feature value. Every other row (held-out rows,
//   prediction) gets the group of its level's encoding from all training rows.
// Deterministic: depends only on (data, rows), so every configuration fitted on the same rows sees the
// same refined feature.

/** Pooled levels of a categorical feature (set by encode when a refinement is possible). */
export interface PooledLevels {
  /** Per row: index of its pooled level (0..nLevels-1), or `none` when the row is not in "(other)". */
  codes: Uint16Array | Int32Array;
  nLevels: number;
  none: number;
}

export const REFINE_MIN_ROWS_PER_LEVEL = 5;
export const REFINE_MAX_LEVELS = 65535;
export const REFINE_GROUPS = 4;
export const REFINE_PARTS = 5;
export const REFINE_Z = 1.6448536269514722;
const REFINE_KEY = 0x2ef1e5;

/** The pooled-level codes of a binned feature, if encode kept them. */
export function pooledLevelsOf(f: BinnedFeature): PooledLevels | undefined {
  return (f as BinnedFeature & { pooledLevels?: PooledLevels }).pooledLevels;
}

/** One refined feature: pooled level -> bin (the feature's otherBin or a new bin). */
export interface Refinement {
  feature: number;
  /** nBins of the refined feature. */
  nBins: number;
  /** Per pooled level, its bin when predicting. */
  levelBin: Uint8Array;
}

/**
 * Empirical-Bayes uplift encoding of the pooled levels from the rows `rows` (all in the pooled bin),
 * written to `te` (length nLevels). Returns the heterogeneity z statistic (NaN with fewer than 2 levels
 * holding both arms).
 */
export function pooledUpliftEncoding(
  codes: Uint16Array | Int32Array,
  nLevels: number,
  t: Uint8Array,
  y: Uint8Array,
  rows: Uint32Array,
  count: number,
  te: Float64Array,
): number {
  const stats = new Float64Array(4 * nLevels); // per level: n_t, y_t, n_c, y_c
  for (let j = 0; j < count; j++) {
    const r = rows[j];
    const o = 4 * codes[r] + 2 * (1 - t[r]);
    stats[o]++;
    stats[o + 1] += y[r];
  }
  return upliftEncodingFromCounts(stats, nLevels, te);
}

/** pooledUpliftEncoding from per-level counts `stats` (n_t, y_t, n_c, y_c per level). */
function upliftEncodingFromCounts(stats: Float64Array, nLevels: number, te: Float64Array): number {
  let NT = 0, YT = 0, NC = 0, YC = 0;
  for (let l = 0; l < nLevels; l++) {
    NT += stats[4 * l];
    YT += stats[4 * l + 1];
    NC += stats[4 * l + 2];
    YC += stats[4 * l + 3];
  }
  const Pt = NT > 0 ? YT / NT : 0;
  const Pc = NC > 0 ? YC / NC : 0;
  const u0 = Pt - Pc;
  te.fill(u0);
  // variance floors: a 0/1 rate gives 0 variance; use half a row's worth instead
  const vt = Math.max(Pt * (1 - Pt), 0.25 / Math.max(1, NT));
  const vc = Math.max(Pc * (1 - Pc), 0.25 / Math.max(1, NC));
  let k = 0, S1 = 0, S2 = 0, SU = 0;
  for (let l = 0; l < nLevels; l++) {
    const nt = stats[4 * l], nc = stats[4 * l + 2];
    if (nt === 0 || nc === 0) continue;
    const w = 1 / (vt / nt + vc / nc);
    k++;
    S1 += w;
    S2 += w * w;
    SU += w * (stats[4 * l + 1] / nt - stats[4 * l + 3] / nc);
  }
  if (k < 2) return NaN;
  const uw = SU / S1;
  let Q = 0;
  for (let l = 0; l < nLevels; l++) {
    const nt = stats[4 * l], nc = stats[4 * l + 2];
    if (nt === 0 || nc === 0) continue;
    const d = stats[4 * l + 1] / nt - stats[4 * l + 3] / nc - uw;
    Q += (d * d) / (vt / nt + vc / nc);
  }
  const s2 = Math.max(0, (Q - (k - 1)) / (S1 - S2 / S1));
  if (s2 > 0) {
    for (let l = 0; l < nLevels; l++) {
      const nt = stats[4 * l], nc = stats[4 * l + 2];
      if (nt === 0 || nc === 0) continue;
      const v = vt / nt + vc / nc;
      te[l] = u0 + (s2 / (s2 + v)) * (stats[4 * l + 1] / nt - stats[4 * l + 3] / nc - u0);
    }
  }
  return (Q - (k - 1)) / Math.sqrt(2 * (k - 1));
}

/** Cross-fitting part of row r: a fixed hash of the row index (murmur3 finaliser), 0..REFINE_PARTS-1. */
export function refinePart(r: number): number {
  let h = (r ^ REFINE_KEY) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % REFINE_PARTS;
}

/** Bin of an encoding value: otherBin for group 0, else firstNew + group - 1 (group = edges below v). */
function groupBin(edges: Float64Array, v: number, otherBin: number, firstNew: number): number {
  let g = 0;
  while (g < edges.length && edges[g] < v) g++;
  return g === 0 ? otherBin : firstNew + g - 1;
}

/**
 * Refines the pooled bins of `data` for a fit on `rows` (see the section comment). Returns the dataset
 * the fit trains on (refined features replaced, training rows cross-fitted; the other features shared)
 * and the refinements a model keeps to build its prediction view (refinedView). `refinements` is empty
 * (and `train` is `data`) when no feature qualifies.
 */
export function refinePooled(
  data: BinnedDataset,
  rows: Uint32Array,
  groups = REFINE_GROUPS,
): { train: BinnedDataset; refinements: Refinement[] } {
  const refinements: Refinement[] = [];
  let features: BinnedFeature[] | null = null;
  for (let j = 0; j < data.features.length; j++) {
    const f = data.features[j];
    const pl = pooledLevelsOf(f);
    if (!pl || f.otherBin === undefined) continue;
    const G = Math.min(groups, 256 - f.nBins + 1);
    if (G < 2) continue;
    const { codes, nLevels, none } = pl;
    // the fit's rows in the pooled bin, their cross-fitting part, and per-(part, level) counts
    const t = data.treatment, y = data.outcome;
    let m = 0;
    for (let q = 0; q < rows.length; q++) if (codes[rows[q]] !== none) m++;
    const pooled = new Uint32Array(m);
    const part = new Uint8Array(m);
    const L4 = 4 * nLevels;
    const partStats = new Float64Array(REFINE_PARTS * L4);
    for (let q = 0, a = 0; q < rows.length; q++) {
      const r = rows[q];
      const c = codes[r];
      if (c === none) continue;
      const p = refinePart(r);
      pooled[a] = r;
      part[a++] = p;
      const o = p * L4 + 4 * c + 2 * (1 - t[r]);
      partStats[o]++;
      partStats[o + 1] += y[r];
    }
    const total = new Float64Array(L4);
    for (let p = 0; p < REFINE_PARTS; p++) for (let i = 0; i < L4; i++) total[i] += partStats[p * L4 + i];
    const te = new Float64Array(nLevels);
    const z = upliftEncodingFromCounts(total, nLevels, te);
    if (!(z > REFINE_Z)) continue;
    // group edges: row quantiles of the full-training encoding
    const order = new Float64Array(m);
    for (let q = 0; q < m; q++) order[q] = te[codes[pooled[q]]];
    order.sort();
    const edges = new Float64Array(G - 1);
    for (let g = 1; g < G; g++) edges[g - 1] = order[Math.min(m - 1, Math.floor((g * m) / G))];
    const otherBin = f.otherBin;
    const firstNew = f.nBins;
    const nBins = f.nBins + G - 1;
    const levelBin = new Uint8Array(nLevels);
    for (let l = 0; l < nLevels; l++) levelBin[l] = groupBin(edges, te[l], otherBin, firstNew);
    const refinement: Refinement = { feature: j, nBins, levelBin };
    refinements.push(refinement);
    const view = refinedFeature(f, refinement);
    // cross-fitted groups for the training rows: part p's encoding from the other parts' counts
    const rest = new Float64Array(L4);
    const partBin = new Uint8Array(REFINE_PARTS * nLevels);
    for (let p = 0; p < REFINE_PARTS; p++) {
      for (let i = 0; i < L4; i++) rest[i] = total[i] - partStats[p * L4 + i];
      upliftEncodingFromCounts(rest, nLevels, te);
      for (let l = 0; l < nLevels; l++) partBin[p * nLevels + l] = groupBin(edges, te[l], otherBin, firstNew);
    }
    const vb = view.bins;
    for (let q = 0; q < m; q++) vb[pooled[q]] = partBin[part[q] * nLevels + codes[pooled[q]]];
    features ??= data.features.slice();
    features[j] = view;
  }
  return { train: features ? { ...data, features } : data, refinements };
}

function refinedFeature(f: BinnedFeature, ref: Refinement): BinnedFeature {
  const pl = pooledLevelsOf(f);
  if (!pl || pl.nLevels !== ref.levelBin.length) throw new RangeError(`refinedView: feature ${f.name} has no matching pooled levels`);
  const bins = f.bins.slice();
  const { codes, none } = pl;
  for (let i = 0; i < bins.length; i++) {
    const c = codes[i];
    if (c !== none) bins[i] = ref.levelBin[c];
  }
  const labels = f.labels ? f.labels.slice() : [];
  for (let b = f.nBins; b < ref.nBins; b++) labels.push(`(other ${b - f.nBins + 2})`);
  return { ...f, nBins: ref.nBins, bins, labels };
}

/** The dataset a model with these refinements predicts from: every row's pooled level mapped to its group. */
export function refinedView(data: BinnedDataset, refinements: readonly Refinement[]): BinnedDataset {
  if (refinements.length === 0) return data;
  const features = data.features.slice();
  for (const ref of refinements) features[ref.feature] = refinedFeature(data.features[ref.feature], ref);
  return { ...data, features };
}
