import t from 'tap';
import { UpliftTreeGrower, type UpliftTreeParams } from '../../src/ml/tree/uplift-tree.js';
import { buildHistogram, SLOTS } from '../../src/ml/tree/histogram.js';
import { divergenceFor, normalization } from '../../src/ml/tree/criteria/index.js';
import { leafOf, goesLeft } from '../../src/ml/tree/flat.js';
import { createRng } from '../../src/ml/rng.js';
import type { BinnedDataset, Criterion } from '../../src/ml/types.js';
import { synth, allRows } from './forest-helpers.js';

// ---- the slow, obvious twin of the split search -------------------------------------------------

interface Counts { nt: number; yt: number; nc: number; yc: number }
function countRows(data: BinnedDataset, rows: number[]): Counts {
  const c = { nt: 0, yt: 0, nc: 0, yc: 0 };
  for (const r of rows) {
    if (data.treatment[r] === 1) { c.nt++; c.yt += data.outcome[r]; } else { c.nc++; c.yc += data.outcome[r]; }
  }
  return c;
}

/** Gain of sending `left` bins of feature f left, computed row by row from the definition. */
function twinGain(data: BinnedDataset, p: Required<UpliftTreeParams>, f: number, left: Set<number>): number {
  const rows = Array.from(allRows(data.n));
  const node = countRows(data, rows);
  const L = countRows(data, rows.filter((r) => left.has(data.features[f].bins[r])));
  const R = { nt: node.nt - L.nt, yt: node.yt - L.yt, nc: node.nc - L.nc, yc: node.yc - L.yc };
  const nl = L.nt + L.nc, nr = R.nt + R.nc;
  if (nl === 0 || nr === 0 || nl < p.minSamplesLeaf || nr < p.minSamplesLeaf) return -Infinity;
  if (Math.min(L.nt, L.nc, R.nt, R.nc) < p.minSamplesTreatment) return -Infinity;
  const PT = node.yt / node.nt, PC = node.yc / node.nc;
  const rate = (y: number, n: number, P: number) => (n > p.minSamplesTreatment ? (y + P * p.nReg) / (n + p.nReg) : P);
  const d = divergenceFor(p.criterion);
  const sL = d(rate(L.yt, L.nt, PT), rate(L.yc, L.nc, PC));
  const sR = d(rate(R.yt, R.nt, PT), rate(R.yc, R.nc, PC));
  const g = (nl * sL + nr * sR) / (nl + nr) - d(PT, PC);
  return p.normalize && g > 0 ? g / normalization(node.nt, node.nc, L.nt, L.nc) : g;
}

function presentBins(data: BinnedDataset, f: number): number[] {
  const s = new Set<number>();
  for (let r = 0; r < data.n; r++) s.add(data.features[f].bins[r]);
  return [...s].sort((a, b) => a - b);
}

/** Every threshold split of a numeric feature, missing bin on either side. */
function numericCandidates(B: number): Set<number>[] {
  const out: Set<number>[] = [];
  for (let k = 0; k < B; k++) {
    for (const miss of [false, true]) {
      const s = new Set<number>();
      if (miss) s.add(0);
      for (let b = 1; b <= k; b++) s.add(b);
      out.push(s);
    }
  }
  return out;
}

/** Every subset of the bins present in the node. */
function allSubsets(bins: number[]): Set<number>[] {
  const out: Set<number>[] = [];
  for (let mask = 1; mask < (1 << bins.length) - 1; mask++) out.push(new Set(bins.filter((_, i) => (mask >> i) & 1)));
  return out;
}

/** Prefixes of the present levels ordered by shrunk uplift (ties by bin), missing on either side. */
function orderedPrefixes(data: BinnedDataset, p: Required<UpliftTreeParams>, f: number): Set<number>[] {
  const rows = Array.from(allRows(data.n));
  const node = countRows(data, rows);
  const PT = node.yt / node.nt, PC = node.yc / node.nc;
  const levels = presentBins(data, f).filter((b) => b !== 0);
  const key = new Map<number, number>();
  for (const b of levels) {
    const c = countRows(data, rows.filter((r) => data.features[f].bins[r] === b));
    key.set(b, (c.yt + PT * p.nReg) / (c.nt + p.nReg) - (c.yc + PC * p.nReg) / (c.nc + p.nReg));
  }
  levels.sort((a, b) => key.get(a)! - key.get(b)! || a - b);
  const out: Set<number>[] = [];
  for (let j = 0; j <= levels.length; j++) {
    for (const miss of [false, true]) {
      const s = new Set(levels.slice(0, j));
      if (miss) s.add(0);
      out.push(s);
    }
  }
  return out;
}

function fastBest(data: BinnedDataset, params: UpliftTreeParams) {
  const g = new UpliftTreeGrower(data, params);
  const layout = g.layout;
  const h = new Float64Array(layout.totalBins * SLOTS);
  const rows = allRows(data.n);
  buildHistogram(layout, h, rows, 0, rows.length);
  const c = countRows(data, Array.from(rows));
  const best = g.findBestSplit(h, c.nt, c.yt, c.nc, c.yc, c.yt / c.nt, c.yc / c.nc);
  return { gain: best.gain, feature: best.feature, left: new Set(Array.from(best.leftBins.subarray(0, best.leftCount))) };
}

const CRITERIA: Criterion[] = ['KL', 'ED', 'Chi'];
const base = { maxDepth: 3, minSamplesLeaf: 20, minSamplesTreatment: 5, nReg: 10, featuresPerNode: 99, normalize: true, maxThresholds: 256, histogramBins: 256 };

t.test('numeric split search = exhaustive search over all thresholds, missing both ways', async (t) => {
  for (const criterion of CRITERIA) {
    for (const seed of [1, 2, 3]) {
      const data = synth({ n: 600, seed, numeric: [{ nBins: 12, missing: 0.15 }, { nBins: 40, missing: 0 }], tau: (b) => (b[0] === 0 ? 0.3 : b[0] > 6 ? 0.2 : -0.1) + (b[1] > 30 ? 0.1 : 0) });
      const p = { ...base, criterion } as Required<UpliftTreeParams>;
      let twin = -Infinity;
      for (let f = 0; f < 2; f++) for (const s of numericCandidates(data.features[f].nBins)) twin = Math.max(twin, twinGain(data, p, f, s));
      const fast = fastBest(data, p);
      t.ok(twin > 0, 'a split with positive gain exists');
      t.ok(Math.abs(fast.gain - twin) < 1e-12, `${criterion}/${seed}: fast ${fast.gain} vs exhaustive ${twin}`);
      t.ok(Math.abs(twinGain(data, p, fast.feature, fast.left) - fast.gain) < 1e-12, 'reported left set has the reported gain');
    }
  }
});

t.test('categorical split search: ordered scan = all subsets for <= 3 levels, = ordered prefixes beyond', async (t) => {
  for (const criterion of CRITERIA) {
    for (const seed of [4, 5]) {
      // 3 levels + missing: the ordered scan covers every partition
      const small = synth({ n: 500, seed, categorical: [{ nBins: 4, missing: 0.2 }], tau: (b) => [0.25, -0.1, 0.3, 0][b[0]] });
      const p = { ...base, criterion } as Required<UpliftTreeParams>;
      let twin = -Infinity;
      for (const s of allSubsets(presentBins(small, 0))) twin = Math.max(twin, twinGain(small, p, 0, s));
      const fast = fastBest(small, p);
      t.ok(Math.abs(fast.gain - twin) < 1e-12, `${criterion}/${seed} 3 levels: fast ${fast.gain} vs all subsets ${twin}`);
      // 7 levels (a few empty): equal to the best ordered prefix, never above the best subset
      const big = synth({ n: 800, seed, categorical: [{ nBins: 10, missing: 0.1 }], tau: (b) => ((b[0] * 37) % 5) / 10 - 0.1 });
      const bins = presentBins(big, 0);
      let prefix = -Infinity;
      for (const s of orderedPrefixes(big, p, 0)) prefix = Math.max(prefix, twinGain(big, p, 0, s));
      let subsets = -Infinity;
      for (const s of allSubsets(bins)) subsets = Math.max(subsets, twinGain(big, p, 0, s));
      const fb = fastBest(big, p);
      t.ok(Math.abs(fb.gain - prefix) < 1e-12, `${criterion}/${seed} many levels: fast ${fb.gain} vs ordered prefixes ${prefix}`);
      t.ok(fb.gain <= subsets + 1e-12, 'never better than the best subset');
      t.ok(Math.abs(twinGain(big, p, 0, fb.left) - fb.gain) < 1e-12, 'reported left set has the reported gain');
    }
  }
});

t.test('no valid split -> feature -1 (constraints respected)', async (t) => {
  const data = synth({ n: 100, seed: 8, numeric: [{ nBins: 10, missing: 0 }], tau: (b) => (b[0] > 5 ? 0.5 : 0) });
  const fast = fastBest(data, { ...base, criterion: 'KL', minSamplesLeaf: 60 });
  t.equal(fast.feature, -1);
  const fast2 = fastBest(data, { ...base, criterion: 'KL', minSamplesLeaf: 1, minSamplesTreatment: 60 });
  t.equal(fast2.feature, -1);
});

t.test('node-local threshold cap tries a subset of the thresholds', async (t) => {
  const data = synth({ n: 2000, seed: 3, numeric: [{ nBins: 200, missing: 0 }], tau: (b) => (b[0] > 77 ? 0.2 : 0) });
  const p = { ...base, criterion: 'ED' as Criterion, maxThresholds: 10 };
  const capped = fastBest(data, p);
  const full = fastBest(data, { ...p, maxThresholds: 256 });
  t.ok(capped.gain > 0 && capped.gain <= full.gain + 1e-15);
  t.ok(Math.abs(twinGain(data, p as Required<UpliftTreeParams>, 0, capped.left) - capped.gain) < 1e-12);
  // coarse histograms (200 encoder bins -> 63 groups): the best split equals the exhaustive search
  // over the thresholds at group boundaries, and is reported in encoder bins
  const coarse = fastBest(data, { ...p, maxThresholds: 256, histogramBins: 64 });
  const V = 199, G = 63;
  const lastOfGroup = new Map<number, number>();
  for (let b = 1; b <= V; b++) lastOfGroup.set(1 + Math.floor(((b - 1) * G) / V), b);
  let twin = -Infinity;
  for (const k of [0, ...lastOfGroup.values()]) {
    const s = new Set<number>();
    for (let b = 1; b <= k; b++) s.add(b);
    twin = Math.max(twin, twinGain(data, p as Required<UpliftTreeParams>, 0, s));
  }
  t.ok(Math.abs(coarse.gain - twin) < 1e-12, `coarse ${coarse.gain} vs boundaries ${twin}`);
  t.ok(Math.abs(twinGain(data, p as Required<UpliftTreeParams>, 0, coarse.left) - coarse.gain) < 1e-12);
  t.ok(coarse.gain <= full.gain + 1e-15);
});

// ---- the grown tree ------------------------------------------------------------------------------

/** Leaf values from scratch: counts per node by walking every row, then shrink top-down. */
function twinValues(data: BinnedDataset, tree: ReturnType<UpliftTreeGrower['grow']>, rows: number[], p: { nReg: number; minSamplesTreatment: number }): number[] {
  const N = tree.feature.length;
  const cnt = Array.from({ length: N }, () => ({ nt: 0, yt: 0, nc: 0, yc: 0 }));
  const cols = data.features.map((f) => f.bins);
  for (const r of rows) {
    let node = 0;
    for (;;) {
      const c = cnt[node];
      if (data.treatment[r] === 1) { c.nt++; c.yt += data.outcome[r]; } else { c.nc++; c.yc += data.outcome[r]; }
      if (tree.feature[node] < 0) break;
      node = goesLeft(tree, node, cols[tree.feature[node]][r]) ? tree.left[node] : tree.right[node];
    }
  }
  const pt = new Array(N).fill(0), pc = new Array(N).fill(0), v = new Array(N).fill(0);
  pt[0] = cnt[0].yt / cnt[0].nt; pc[0] = cnt[0].yc / cnt[0].nc; v[0] = pt[0] - pc[0];
  const visit = (i: number) => {
    if (tree.feature[i] < 0) return;
    for (const ch of [tree.left[i], tree.right[i]]) {
      const c = cnt[ch];
      pt[ch] = c.nt > p.minSamplesTreatment ? (c.yt + pt[i] * p.nReg) / (c.nt + p.nReg) : pt[i];
      pc[ch] = c.nc > p.minSamplesTreatment ? (c.yc + pc[i] * p.nReg) / (c.nc + p.nReg) : pc[i];
      v[ch] = pt[ch] - pc[ch];
      visit(ch);
    }
  };
  visit(0);
  return v;
}

t.test('grown tree: planted split found, leaf values = shrunk rates, constraints hold, importance', async (t) => {
  const data = synth({ n: 6000, seed: 11, numeric: [{ nBins: 50, missing: 0.05 }, { nBins: 50, missing: 0 }], categorical: [{ nBins: 6, missing: 0 }], tau: (b) => (b[1] > 25 ? 0.35 : 0) });
  const params = { criterion: 'KL' as Criterion, maxDepth: 4, minSamplesLeaf: 150, minSamplesTreatment: 20, nReg: 50, featuresPerNode: 3 };
  const g = new UpliftTreeGrower(data, params);
  const rows = allRows(data.n);
  const imp = new Float64Array(3);
  const tree = g.grow(rows, rows.length, createRng(1), imp);
  t.equal(tree.feature[0], 1, 'root splits on the planted feature');
  const leftBins = Array.from({ length: 51 }, (_, b) => b).filter((b) => goesLeft(tree, 0, b));
  t.same(leftBins.filter((b) => b > 0), Array.from({ length: 25 }, (_, i) => i + 1), 'at the planted threshold');
  t.ok(imp[1] > 5 * imp[0] && imp[1] > 5 * imp[2], `importance ${Array.from(imp)}`);
  const twin = twinValues(data, tree, Array.from(allRows(data.n)), params);
  for (let i = 0; i < tree.feature.length; i++) t.ok(Math.abs(twin[i] - tree.value[i]) < 1e-12, `node ${i} value`);
  // every leaf respects min_samples_leaf / min_samples_treatment on the training rows
  const cols = data.features.map((f) => f.bins);
  const per = new Map<number, { t: number; c: number }>();
  for (let r = 0; r < data.n; r++) {
    const leaf = leafOf(tree, cols, r);
    const e = per.get(leaf) ?? { t: 0, c: 0 };
    if (data.treatment[r]) e.t++; else e.c++;
    per.set(leaf, e);
  }
  t.ok(per.size > 2);
  for (const [, e] of per) t.ok(e.t + e.c >= 150 && e.t >= 20 && e.c >= 20, `leaf sizes ${e.t}/${e.c}`);
  // leaf values are shrunk: no leaf claims an extreme uplift
  for (let i = 0; i < tree.feature.length; i++) t.ok(Math.abs(tree.value[i]) < 0.6);
  // honest re-estimation on other rows = twin on those rows; on the same rows = unchanged
  const copy = { ...tree, value: tree.value.slice() };
  g.reestimate(copy, rows, 0, rows.length);
  t.same(Array.from(copy.value), Array.from(tree.value));
  const other = Array.from(allRows(3000));
  g.reestimate(copy, Uint32Array.from(other), 0, other.length);
  const twin2 = twinValues(data, copy, other, params);
  for (let i = 0; i < copy.feature.length; i++) t.ok(Math.abs(twin2[i] - copy.value[i]) < 1e-12, `re-estimated node ${i}`);
});

t.test('weighted rows grow the same tree as repeated rows', async (t) => {
  const data = synth({ n: 3000, seed: 12, numeric: [{ nBins: 30, missing: 0.1 }], categorical: [{ nBins: 8, missing: 0.1 }], tau: (b) => (b[0] > 10 ? 0.2 : 0) + (b[1] === 3 ? 0.2 : 0) });
  const params = { criterion: 'ED' as Criterion, maxDepth: 4, minSamplesLeaf: 100, minSamplesTreatment: 10, nReg: 20, featuresPerNode: 2 };
  const rng = createRng(3);
  const weight = new Uint8Array(data.n);
  const distinct: number[] = [];
  const repeated: number[] = [];
  for (let r = 0; r < data.n; r++) {
    weight[r] = rng.int(3);
    if (weight[r]) distinct.push(r);
    for (let c = 0; c < weight[r]; c++) repeated.push(r);
  }
  const a = new UpliftTreeGrower(data, params).grow(Uint32Array.from(distinct), distinct.length, createRng(5), undefined, weight);
  const b = new UpliftTreeGrower(data, params).grow(Uint32Array.from(repeated), repeated.length, createRng(5));
  t.same(Array.from(a.feature), Array.from(b.feature));
  t.same(Array.from(a.leftSet), Array.from(b.leftSet));
  t.same(Array.from(a.value), Array.from(b.value));
  t.ok(a.feature.length > 3);
});

t.test('honest growth (estimation rows partitioned alongside) = grow, then re-estimate on those rows', async (t) => {
  const data = synth({ n: 5000, seed: 13, numeric: [{ nBins: 40, missing: 0.1 }, { nBins: 12, missing: 0 }], categorical: [{ nBins: 7, missing: 0.1 }], tau: (b) => (b[0] > 20 ? 0.25 : 0) + (b[2] === 1 ? -0.2 : 0) });
  const params = { criterion: 'KL' as Criterion, maxDepth: 5, minSamplesLeaf: 80, minSamplesTreatment: 10, nReg: 30, featuresPerNode: 2 };
  const structure = Array.from(allRows(data.n)).filter((r) => r % 2 === 0);
  const est = Array.from(allRows(data.n)).filter((r) => r % 2 === 1);
  const buf = Uint32Array.from([...structure, ...est]);
  const honest = new UpliftTreeGrower(data, params).grow(buf, structure.length, createRng(2), undefined, undefined, est.length);
  const g = new UpliftTreeGrower(data, params);
  const plain = g.grow(Uint32Array.from(structure), structure.length, createRng(2));
  t.same(Array.from(honest.feature), Array.from(plain.feature), 'same structure');
  t.same(Array.from(honest.leftSet), Array.from(plain.leftSet));
  t.notSame(Array.from(honest.value), Array.from(plain.value), 'values differ from the in-sample ones');
  g.reestimate(plain, Uint32Array.from(est), 0, est.length);
  for (let i = 0; i < plain.value.length; i++) t.ok(Math.abs(plain.value[i] - honest.value[i]) < 1e-12, `node ${i}`);
  const twin = twinValues(data, honest, est, params);
  for (let i = 0; i < honest.value.length; i++) t.ok(Math.abs(twin[i] - honest.value[i]) < 1e-12, `twin node ${i}`);
});

t.test('a tree on a small share of a large dataset (gathered local copy) = the same tree on those rows alone', async (t) => {
  const data = synth({ n: 6000, seed: 14, numeric: [{ nBins: 200, missing: 0.1 }, { nBins: 9, missing: 0 }], categorical: [{ nBins: 6, missing: 0.1 }], tau: (b) => (b[0] > 90 ? 0.3 : 0) + (b[2] === 2 ? -0.2 : 0) });
  const pick = Array.from(allRows(data.n)).filter((r) => r % 5 === 1); // 1 200 rows: gathered (6 000 >= 4 x 1 200)
  const sub: BinnedDataset = {
    n: pick.length,
    treatment: Uint8Array.from(pick, (r) => data.treatment[r]),
    outcome: Uint8Array.from(pick, (r) => data.outcome[r]),
    features: data.features.map((f) => ({ ...f, bins: Uint8Array.from(pick, (r) => f.bins[r]) })),
    report: data.report,
  };
  const params = { criterion: 'ED' as Criterion, maxDepth: 5, minSamplesLeaf: 60, minSamplesTreatment: 10, nReg: 30, featuresPerNode: 2 };
  const half = pick.length / 2;
  // honest: first half structure, second half estimation
  const a = new UpliftTreeGrower(data, params).grow(Uint32Array.from(pick), half, createRng(3), undefined, undefined, half);
  const b = new UpliftTreeGrower(sub, params).grow(allRows(sub.n), half, createRng(3), undefined, undefined, half);
  t.same(Array.from(a.feature), Array.from(b.feature));
  t.same(Array.from(a.leftSet), Array.from(b.leftSet));
  t.same(Array.from(a.value), Array.from(b.value));
  t.ok(a.feature.length > 3);
  // weighted (bootstrap multiplicities)
  const wBig = new Uint8Array(data.n);
  const wSub = new Uint8Array(sub.n);
  pick.forEach((r, i) => { wBig[r] = wSub[i] = 1 + (i % 3); });
  const c = new UpliftTreeGrower(data, params).grow(Uint32Array.from(pick), pick.length, createRng(4), undefined, wBig);
  const d = new UpliftTreeGrower(sub, params).grow(allRows(sub.n), sub.n, createRng(4), undefined, wSub);
  t.same(Array.from(c.leftSet), Array.from(d.leftSet));
  t.same(Array.from(c.value), Array.from(d.value));
});
