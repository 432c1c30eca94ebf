import t from 'tap';
import type { BinnedDataset, BinnedFeature } from '../../src/ml/types.js';
import { createRng, type Rng } from '../../src/ml/rng.js';
import { leafOf, goesLeft, accumulate } from '../../src/ml/tree/flat.js';
import { buildHistogram, featureOffsets, packRows, subtractHistogram, HIST_SLOTS } from '../../src/ml/boosting/histogram.js';
import { SplitFinder, SplitResult, type SplitParams } from '../../src/ml/boosting/split.js';
import { GbmModel, fitGbmClassifier, fitGbmRegressor, type GbmParams } from '../../src/ml/boosting/gbm.js';

// ---------- helpers: BinnedDatasets by hand ----------

function feature(name: string, kind: 'numeric' | 'categorical', nBins: number, bins: Uint8Array): BinnedFeature {
  return { name, kind, nBins, bins };
}
function dataset(features: BinnedFeature[], outcome?: Uint8Array, treatment?: Uint8Array): BinnedDataset {
  const n = features[0].bins.length;
  return {
    n,
    treatment: treatment ?? new Uint8Array(n),
    outcome: outcome ?? new Uint8Array(n),
    features,
    report: { droppedConstant: [], pooled: [] },
  };
}
/** Random bins in 0..nBins-1; bin 0 (missing) with probability pMissing. */
function randomBins(rng: Rng, n: number, nBins: number, pMissing: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.next() < pMissing ? 0 : 1 + rng.int(nBins - 1);
  return b;
}
const allRows = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

// ---------- histograms ----------

/** Slow obvious twin: per-feature per-bin sums by direct iteration. */
function bruteHist(data: BinnedDataset, rows: ArrayLike<number>, g: Float64Array, h: Float64Array): Float64Array[] {
  return data.features.map((f) => {
    const out = new Float64Array(f.nBins * 3);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      out[f.bins[r] * 3] += g[r];
      out[f.bins[r] * 3 + 1] += h[r];
      out[f.bins[r] * 3 + 2] += 1;
    }
    return out;
  });
}

function makeRandomData(seed: number, n: number, specs: { kind: 'numeric' | 'categorical'; nBins: number }[]) {
  const rng = createRng(seed);
  const feats = specs.map((s, i) => feature('f' + i, s.kind, s.nBins, randomBins(rng, n, s.nBins, 0.15)));
  const data = dataset(feats);
  const g = Float64Array.from({ length: n }, () => rng.next() * 2 - 1);
  const h = Float64Array.from({ length: n }, () => 0.05 + rng.next() * 0.2);
  return { rng, data, g, h };
}

t.test('histogram build equals brute force; subtraction gives the sibling', async (t) => {
  const n = 700;
  const { rng, data, g, h } = makeRandomData(11, n, [
    { kind: 'numeric', nBins: 9 },
    { kind: 'categorical', nBins: 5 },
    { kind: 'numeric', nBins: 256 },
    { kind: 'numeric', nBins: 2 },
    { kind: 'categorical', nBins: 30 },
    { kind: 'numeric', nBins: 17 },
  ]);
  const { offsets, totalBins } = featureOffsets(data.features.map((f) => f.nBins));
  t.equal(totalBins, 9 + 5 + 256 + 2 + 30 + 17);
  const F = 6;
  const columns = data.features.map((f) => f.bins);
  const feats = Int32Array.from([0, 1, 2, 3, 4, 5]);
  const size = totalBins * HIST_SLOTS;
  const hist = new Float64Array(2 * size).fill(123); // garbage: build must zero what it writes
  const rows = allRows(n);
  // a sub-slice of a shuffled buffer, as in a tree node
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = rows[i]; rows[i] = rows[j]; rows[j] = tmp;
  }
  const begin = 50;
  const count = 500;
  const packed = packRows(columns, n);
  t.equal(packed[7 * F + 2], columns[2][7], 'row-major packing');
  buildHistogram(hist, 0, packed, F, offsets, feats, F, rows, begin, count, g, h, new Int32Array(F));
  const parentRows = rows.slice(begin, begin + count);
  const brute = bruteHist(data, parentRows, g, h);
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < brute[f].length; i++) {
      const v = hist[offsets[f] * 3 + i];
      if (Math.abs(v - brute[f][i]) > 1e-9) t.fail(`parent f${f} slot ${i}: ${v} vs ${brute[f][i]}`);
    }
  }
  // child = first 180 rows of the slice; sibling = parent - child
  buildHistogram(hist, size, packed, F, offsets, feats, F, rows, begin, 180, g, h, new Int32Array(F));
  subtractHistogram(hist, 0, size, offsets, feats, F);
  const sibling = bruteHist(data, rows.slice(begin + 180, begin + count), g, h);
  let maxErr = 0;
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < sibling[f].length; i++) maxErr = Math.max(maxErr, Math.abs(hist[offsets[f] * 3 + i] - sibling[f][i]));
  }
  t.ok(maxErr < 1e-9, `subtraction max error ${maxErr}`);
  // counts are exact integers
  let cnt = 0;
  for (let b = 0; b < 9; b++) cnt += hist[b * 3 + 2];
  t.equal(cnt, count - 180);
  // a subset of features (the colsample path): equal to brute force on those, others untouched
  const hist2 = new Float64Array(size).fill(-1);
  const sub = Int32Array.from([1, 4, 5]);
  buildHistogram(hist2, 0, packed, F, offsets, sub, 3, rows, begin, count, g, h, new Int32Array(F));
  let subErr = 0;
  for (const f of sub) for (let i = 0; i < brute[f].length; i++) subErr = Math.max(subErr, Math.abs(hist2[offsets[f] * 3 + i] - brute[f][i]));
  t.ok(subErr < 1e-9, `subset max error ${subErr}`);
  t.ok(hist2.subarray(0, offsets[1] * 3).every((v) => v === -1), 'unlisted feature untouched');
});

t.test('histogram only touches the listed features', async (t) => {
  const { data, g, h } = makeRandomData(3, 100, [
    { kind: 'numeric', nBins: 4 },
    { kind: 'numeric', nBins: 6 },
  ]);
  const { offsets, totalBins } = featureOffsets([4, 6]);
  const hist = new Float64Array(totalBins * 3).fill(7);
  buildHistogram(hist, 0, packRows(data.features.map((f) => f.bins), 100), 2, offsets, Int32Array.from([1]), 1, allRows(100), 0, 100, g, h, new Int32Array(2));
  t.same(Array.from(hist.subarray(0, 12)), new Array(12).fill(7));
  let c = 0;
  for (let b = 0; b < 6; b++) c += hist[(4 + b) * 3 + 2];
  t.equal(c, 100);
});

// ---------- split search vs exhaustive search ----------

interface Candidate { gain: number; feature: number; left: boolean[] }

/** Slow obvious twin: every admissible partition, gains summed directly over rows. */
function exhaustiveBest(
  data: BinnedDataset,
  rows: Uint32Array,
  g: Float64Array,
  h: Float64Array,
  p: SplitParams,
): Candidate | null {
  let G = 0, H = 0;
  for (const r of rows) { G += g[r]; H += h[r]; }
  const N = rows.length;
  let best: Candidate | null = null;
  const tryLeft = (f: number, left: boolean[], l2: number) => {
    let gl = 0, hl = 0, nl = 0;
    for (const r of rows) {
      if (left[data.features[f].bins[r]]) { gl += g[r]; hl += h[r]; nl++; }
    }
    const gr = G - gl, hr = H - hl, nr = N - nl;
    if (nl < Math.max(1, p.minSamplesLeaf) || nr < Math.max(1, p.minSamplesLeaf)) return;
    if (hl < p.minHessianLeaf || hr < p.minHessianLeaf) return;
    const gain = 0.5 * ((gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - (G * G) / (H + p.l2));
    if (gain > Math.max(0, p.minGain) && (best === null || gain > best.gain + 1e-12)) best = { gain, feature: f, left };
  };
  data.features.forEach((feat, f) => {
    const nb = feat.nBins;
    if (feat.kind === 'numeric') {
      for (let thr = 1; thr < nb; thr++) {
        for (const missLeft of [false, true]) {
          const left = Array.from({ length: nb }, (_, b) => (b === 0 ? missLeft : b <= thr));
          tryLeft(f, left, p.l2);
        }
      }
    } else {
      for (let mask = 1; mask < 1 << nb; mask++) {
        const left = Array.from({ length: nb }, (_, b) => ((mask >> b) & 1) === 1);
        tryLeft(f, left, p.l2 + p.catL2);
      }
    }
  });
  return best;
}

function fastBest(data: BinnedDataset, rows: Uint32Array, g: Float64Array, h: Float64Array, p: SplitParams) {
  const nBins = Int32Array.from(data.features, (f) => f.nBins);
  const { offsets, totalBins } = featureOffsets(nBins);
  const hist = new Float64Array(totalBins * 3);
  const F = data.features.length;
  const feats = Int32Array.from({ length: F }, (_, i) => i);
  buildHistogram(hist, 0, packRows(data.features.map((f) => f.bins), data.n), F, offsets, feats, F, rows, 0, rows.length, g, h, new Int32Array(F));
  let G = 0, H = 0;
  for (const r of rows) { G += g[r]; H += h[r]; }
  const finder = new SplitFinder(Uint8Array.from(data.features, (f) => (f.kind === 'categorical' ? 1 : 0)), nBins, offsets, p);
  const out = new SplitResult();
  finder.find(hist, 0, feats, F, G, H, rows.length, out);
  return out;
}

t.test('fast split search equals exhaustive search (numeric with missing, categorical)', async (t) => {
  let checked = 0;
  for (let trial = 0; trial < 60; trial++) {
    const rng = createRng(1000 + trial);
    const n = 40 + rng.int(160);
    const specs = [
      { kind: 'numeric' as const, nBins: 2 + rng.int(12) },
      { kind: 'categorical' as const, nBins: 2 + rng.int(6) },
      { kind: 'numeric' as const, nBins: 2 + rng.int(5) },
    ];
    const { data, g, h } = makeRandomData(5000 + trial, n, specs);
    // Gradients with real structure in some trials, so splits are not all noise.
    if (trial % 2 === 0) for (let i = 0; i < n; i++) g[i] += data.features[1].bins[i] % 2 === 0 ? 0.7 : -0.4;
    const rows = allRows(n);
    // Categorical ordering is exact for l2 = catL2 = catSmooth = 0 (Fisher 1958 / Breiman et al. 1984).
    const p: SplitParams = {
      l2: 0, minSamplesLeaf: 1 + rng.int(8), minHessianLeaf: 1e-3, minGain: 0, catSmooth: 0, catL2: 0, minDataPerGroup: 1, gainPenalty: 0, catGainPenalty: 0,
    };
    const fast = fastBest(data, rows, g, h, p);
    const slow = exhaustiveBest(data, rows, g, h, p);
    if (slow === null) {
      t.equal(fast.gain, -Infinity, `trial ${trial}: no split`);
      continue;
    }
    checked++;
    t.ok(Math.abs(fast.gain - slow.gain) <= 1e-9 * Math.max(1, slow.gain), `trial ${trial}: gain ${fast.gain} vs ${slow.gain}`);
    // the fast result's left set really yields its reported statistics
    let gl = 0, nl = 0;
    const bins = data.features[fast.feature].bins;
    for (const r of rows) {
      if ((fast.leftSet[bins[r] >>> 5] >>> (bins[r] & 31)) & 1) { gl += g[r]; nl++; }
    }
    t.equal(nl, fast.nl, `trial ${trial}: left count`);
    t.ok(Math.abs(gl - fast.gl) < 1e-9, `trial ${trial}: left gradient`);
  }
  t.ok(checked > 40, `${checked} trials had a split`);
});

t.test('numeric split search with l2 and min leaf equals exhaustive search', async (t) => {
  for (let trial = 0; trial < 30; trial++) {
    const rng = createRng(77 + trial);
    const n = 60 + rng.int(300);
    const { data, g, h } = makeRandomData(900 + trial, n, [
      { kind: 'numeric', nBins: 2 + rng.int(40) },
      { kind: 'numeric', nBins: 2 + rng.int(8) },
    ]);
    for (let i = 0; i < n; i++) g[i] += data.features[0].bins[i] > 5 ? 0.3 : -0.2;
    const p: SplitParams = {
      l2: rng.next() * 5, minSamplesLeaf: 1 + rng.int(30), minHessianLeaf: rng.next() * 3, minGain: 0, catSmooth: 10, catL2: 10, minDataPerGroup: 1, gainPenalty: 0, catGainPenalty: 0,
    };
    const rows = allRows(n);
    const fast = fastBest(data, rows, g, h, p);
    const slow = exhaustiveBest(data, rows, g, h, p);
    if (slow === null) t.equal(fast.gain, -Infinity);
    else t.ok(Math.abs(fast.gain - slow.gain) <= 1e-9 * Math.max(1, slow.gain), `trial ${trial}: ${fast.gain} vs ${slow.gain}`);
  }
});

t.test('categorical split finds the subset of levels that carries the signal', async (t) => {
  const rng = createRng(5);
  const n = 6000;
  const cat = randomBins(rng, n, 12, 0.05);
  const high = new Set([2, 5, 7, 0]);
  const y = Uint8Array.from(cat, (b) => (rng.next() < (high.has(b) ? 0.7 : 0.2) ? 1 : 0));
  const noise = randomBins(rng, n, 30, 0);
  const data = dataset([feature('noise', 'numeric', 30, noise), feature('cat', 'categorical', 12, cat)], y);
  const m = fitGbmClassifier(data, allRows(n), y, { nIter: 1, learningRate: 1, maxDepth: 1, minSamplesLeaf: 20, l2: 1 }, 1);
  const tree = m.trees[0];
  t.equal(tree.feature[0], 1, 'root splits on the categorical');
  const leftBins = [...Array(12).keys()].filter((b) => goesLeft(tree, 0, b));
  const expected = [0, 2, 5, 7];
  const complement = [1, 3, 4, 6, 8, 9, 10, 11];
  t.ok(JSON.stringify(leftBins) === JSON.stringify(expected) || JSON.stringify(leftBins) === JSON.stringify(complement), `left set ${leftBins}`);
});

// ---------- the classifier ----------

function logisticData(seed: number, n: number) {
  // logit = 2*x1 - 1 with x1 in [0,1] binned into 20 bins (x1 = bin centre); x2 pure noise; 5 % missing x1.
  const rng = createRng(seed);
  const b1 = new Uint8Array(n);
  const b2 = randomBins(rng, n, 50, 0.1);
  const y = new Uint8Array(n);
  const truth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const missing = rng.next() < 0.05;
    const bin = 1 + rng.int(20);
    const x1 = (bin - 0.5) / 20;
    b1[i] = missing ? 0 : bin;
    truth[i] = sigmoid(2 * x1 - 1);
    y[i] = rng.next() < truth[i] ? 1 : 0;
  }
  const data = dataset([feature('x1', 'numeric', 21, b1), feature('x2', 'numeric', 50, b2)], y);
  return { data, y, truth };
}

const BASE: GbmParams = { nIter: 80, learningRate: 0.1, maxDepth: 3, minSamplesLeaf: 50, l2: 1 };

t.test('log-loss on the training rows decreases over iterations', async (t) => {
  const { data, y } = logisticData(1, 4000);
  const rows = allRows(data.n);
  const m = fitGbmClassifier(data, rows, y, { ...BASE, nIter: 30, minSamplesLeaf: 10 }, 3);
  t.equal(m.nTrees, 30);
  const loss = (k: number) => {
    const p = m.predictProba(data, rows, k);
    let s = 0;
    for (let i = 0; i < p.length; i++) s -= y[i] ? Math.log(p[i]) : Math.log(1 - p[i]);
    return s / p.length;
  };
  let prev = loss(0);
  const rate = y.reduce((a, b) => a + b, 0) / y.length;
  const baseLoss = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
  t.ok(Math.abs(prev - baseLoss) < 1e-9, 'zero trees = base-rate log-odds');
  for (let k = 1; k <= 30; k++) {
    const l = loss(k);
    if (!(l < prev + 1e-12)) t.fail(`loss went up at tree ${k}: ${prev} -> ${l}`);
    prev = l;
  }
  t.ok(prev < loss(1) - 0.005, `loss fell from ${loss(1)} to ${prev}`);
});

t.test('probabilities approach the truth on logit = 2*x1 - 1', async (t) => {
  const { data, y } = logisticData(2, 30000);
  const m = fitGbmClassifier(data, allRows(data.n), y, BASE, 9);
  // score each bin of x1 (with x2 fixed): compare with the true probability
  const probe = dataset([
    feature('x1', 'numeric', 21, Uint8Array.from({ length: 20 }, (_, i) => i + 1)),
    feature('x2', 'numeric', 50, new Uint8Array(20).fill(7)),
  ]);
  const p = m.predictProba(probe);
  let maxErr = 0;
  for (let i = 0; i < 20; i++) maxErr = Math.max(maxErr, Math.abs(p[i] - sigmoid(2 * ((i + 0.5) / 20) - 1)));
  t.ok(maxErr < 0.05, `max |p - truth| over bins = ${maxErr.toFixed(4)}`);
  // monotone trend captured
  t.ok(p[19] - p[0] > 0.3, `p(top bin) - p(bottom bin) = ${(p[19] - p[0]).toFixed(3)} (truth 0.43)`);
  const imp = m.importance();
  t.ok(imp[0] > 5 * imp[1], `importance x1 ${imp[0].toFixed(1)} >> noise ${imp[1].toFixed(1)}`);
});

t.test('every leaf holds at least minSamplesLeaf training rows; depth is bounded', async (t) => {
  const { data, y } = logisticData(4, 3000);
  const rows = allRows(data.n);
  const p = { ...BASE, nIter: 10, maxDepth: 4, minSamplesLeaf: 120, l2: 0 };
  const m = fitGbmClassifier(data, rows, y, p, 1);
  const columns = data.features.map((f) => f.bins);
  for (const tree of m.trees) {
    const counts = new Map<number, number>();
    for (const r of rows) {
      const leaf = leafOf(tree, columns, r);
      counts.set(leaf, (counts.get(leaf) ?? 0) + 1);
    }
    for (const [leaf, c] of counts) if (c < 120) t.fail(`leaf ${leaf} has ${c} rows`);
    t.ok(counts.size <= 16, 'at most 2^maxDepth leaves');
    const depth = (node: number): number => (tree.feature[node] < 0 ? 0 : 1 + Math.max(depth(tree.left[node]), depth(tree.right[node])));
    t.ok(depth(0) <= 4);
  }
});

t.test('maxLeaves caps the tree size (best-first growth)', async (t) => {
  const { data, y } = logisticData(6, 5000);
  const m = fitGbmClassifier(data, allRows(data.n), y, { ...BASE, nIter: 5, maxDepth: 8, maxLeaves: 5, minSamplesLeaf: 5 }, 1);
  for (const tree of m.trees) {
    const leaves = Array.from(tree.feature).filter((f) => f < 0).length;
    t.ok(leaves <= 5 && leaves >= 2, `${leaves} leaves`);
  }
});

t.test('deterministic for a seed, with row and feature subsampling; seeds matter', async (t) => {
  const { data, y } = logisticData(7, 3000);
  const rows = allRows(data.n).filter((i) => i % 4 !== 0);
  const p = { ...BASE, nIter: 20, subsample: 0.6, colsample: 0.5 };
  const a = fitGbmClassifier(data, rows, y, p, 42).predictRaw(data);
  const b = fitGbmClassifier(data, rows, y, p, 42).predictRaw(data);
  const c = fitGbmClassifier(data, rows, y, p, 43).predictRaw(data);
  let diffAB = 0;
  let diffAC = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) diffAB++;
    if (a[i] !== c[i]) diffAC++;
  }
  t.equal(diffAB, 0, 'same seed, identical raw scores');
  t.ok(diffAC > 0, `another seed changes ${diffAC} scores`);
});

t.test('serialization round trip through plain typed arrays', async (t) => {
  const { data, y } = logisticData(8, 3000);
  const m = fitGbmClassifier(data, allRows(data.n), y, { ...BASE, nIter: 15 }, 5);
  const buf = m.toBuffers();
  for (const k of ['nodeOffsets', 'feature', 'left', 'right', 'value', 'leftSet', 'importance'] as const) {
    t.ok(ArrayBuffer.isView(buf[k]), `${k} is a typed array`);
  }
  const copy = structuredClone(buf);
  const m2 = GbmModel.fromBuffers(copy);
  t.equal(m2.nTrees, 15);
  t.same(Array.from(m2.predictProba(data)), Array.from(m.predictProba(data)));
  t.same(Array.from(m2.importance()), Array.from(m.importance()));
  const rows = Uint32Array.from([5, 17, 2999]);
  const sub = m2.predictProba(data, rows);
  const full = m.predictProba(data);
  t.same(Array.from(sub), [full[5], full[17], full[2999]]);
});

t.test('degenerate labels give a constant model; labels can be any 0/1 column', async (t) => {
  const { data } = logisticData(9, 500);
  const ones = new Uint8Array(500).fill(1);
  const m = fitGbmClassifier(data, allRows(500), ones, BASE, 1);
  t.equal(m.nTrees, 0);
  const p = m.predictProba(data);
  t.ok(p.every((v) => v > 0.99));
  // predict "treatment" from features: a column unrelated to outcome
  const tr = Uint8Array.from({ length: 500 }, (_, i) => (data.features[1].bins[i] > 25 ? 1 : 0));
  const m2 = fitGbmClassifier(data, allRows(500), tr, { ...BASE, nIter: 20, minSamplesLeaf: 10 }, 1);
  const imp = m2.importance();
  t.ok(imp[1] > imp[0], 'the feature that defines the labels matters most');
});

t.test('an offset (init score) that is already right leaves little to learn', async (t) => {
  const { data, y, truth } = logisticData(10, 20000);
  const offset = Float64Array.from(truth, (p) => Math.log(p / (1 - p)));
  const m = fitGbmClassifier(data, allRows(data.n), y, { ...BASE, minGain: 3 }, 1, { offset });
  // trainScores = offset + the model's own raw prediction
  const ts = new Float64Array(data.n);
  fitGbmClassifier(data, allRows(data.n), y, { ...BASE, minGain: 3 }, 1, { offset, trainScores: ts });
  const own = m.predictRaw(data);
  let maxd = 0;
  for (let i = 0; i < data.n; i++) maxd = Math.max(maxd, Math.abs(ts[i] - offset[i] - own[i]));
  t.ok(maxd < 1e-9, `trainScores = offset + predictRaw (max diff ${maxd})`);
  t.ok(Math.abs(m.initScore) < 0.05, `constant on top of the offset: ${m.initScore}`);
  const raw = m.predictRaw(data);
  let s = 0;
  for (const v of raw) s += v * v;
  t.ok(Math.sqrt(s / raw.length) < 0.1, `RMS of the learned correction ${Math.sqrt(s / raw.length)}`);
  // without the offset the same model must learn the slope
  const m0 = fitGbmClassifier(data, allRows(data.n), y, { ...BASE, minGain: 3 }, 1);
  const raw0 = m0.predictRaw(data);
  let s0 = 0;
  for (const v of raw0) s0 += (v - m0.initScore) ** 2;
  t.ok(Math.sqrt(s0 / raw0.length) > 0.3, `without offset the trees learn the signal (${Math.sqrt(s0 / raw0.length)})`);
});

t.test('predictRaw equals the flat.ts accumulate of every tree', async (t) => {
  const { data, y } = logisticData(12, 4000);
  const m = fitGbmClassifier(data, allRows(data.n), y, { ...BASE, nIter: 25, maxDepth: 4 }, 1);
  const columns = data.features.map((f) => f.bins);
  // some trees must be unbalanced (leaves at different depths) to exercise the compiled predictor's
  // pass-through nodes
  const leafDepths = (tree: (typeof m.trees)[number]) => {
    const out: number[] = [];
    const walk = (n: number, d: number): void => {
      if (tree.feature[n] < 0) out.push(d);
      else { walk(tree.left[n], d + 1); walk(tree.right[n], d + 1); }
    };
    walk(0, 0);
    return out;
  };
  t.ok(m.trees.some((tr) => new Set(leafDepths(tr)).size > 1), 'an unbalanced tree exists');
  const rows = Uint32Array.from([3, 99, 1500, 7, 3999, 0]);
  for (const sel of [undefined, rows]) {
    const slow = new Float64Array(sel ? sel.length : data.n).fill(m.initScore);
    for (const tree of m.trees) accumulate(tree, columns, slow, 1, sel);
    const fast = m.predictRaw(data, sel);
    let maxd = 0;
    for (let i = 0; i < fast.length; i++) maxd = Math.max(maxd, Math.abs(fast[i] - slow[i]));
    t.ok(maxd < 1e-12, `max diff ${maxd}`);
  }
});

t.test('minGain stops boosting at the first tree without a split (not under subsampling)', async (t) => {
  // pure-noise labels: no split is worth a gain of 25
  const rng = createRng(31);
  const n = 3000;
  const data = dataset([feature('a', 'numeric', 40, randomBins(rng, n, 40, 0)), feature('b', 'categorical', 6, randomBins(rng, n, 6, 0))]);
  const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const m = fitGbmClassifier(data, allRows(n), y, { ...BASE, nIter: 50, minGain: 25 }, 1);
  t.equal(m.nTrees, 1, 'one single-leaf tree, then stop');
  t.equal(m.trees[0].feature[0], -1);
  const m0 = fitGbmClassifier(data, allRows(n), y, { ...BASE, nIter: 50, minGain: 0 }, 1);
  t.equal(m0.nTrees, 50, 'without minGain noise is fitted for all iterations');
  const ms = fitGbmClassifier(data, allRows(n), y, { ...BASE, nIter: 10, minGain: 25, colsample: 0.5 }, 1);
  t.equal(ms.nTrees, 3, 'feature subsampling: stops after three empty trees in a row');
  const mr = fitGbmClassifier(data, allRows(n), y, { ...BASE, nIter: 10, minGain: 25, maxTreeRows: 1000 }, 1);
  t.equal(mr.nTrees, 3, 'row cap (subsampling): stops after three empty trees in a row');
});

t.test('split search with the multiple-comparison penalties equals exhaustive search minus beta*ln(K) (+ gamma*(K-1) for categoricals)', async (t) => {
  let checked = 0;
  for (let trial = 0; trial < 40; trial++) {
    const rng = createRng(4000 + trial);
    const n = 60 + rng.int(200);
    const { data, g, h } = makeRandomData(7000 + trial, n, [
      { kind: 'numeric', nBins: 2 + rng.int(30) },
      { kind: 'categorical', nBins: 2 + rng.int(6) },
      { kind: 'numeric', nBins: 2 + rng.int(4) },
    ]);
    if (trial % 2 === 0) for (let i = 0; i < n; i++) g[i] += data.features[0].bins[i] > 8 ? 0.25 : -0.2;
    const beta = 0.2 + rng.next() * 2;
    const gamma = trial % 3 === 0 ? 0 : rng.next() * 0.5;
    const p: SplitParams = {
      l2: 0, minSamplesLeaf: 1 + rng.int(5), minHessianLeaf: 1e-3, minGain: 0, catSmooth: 0, catL2: 0, minDataPerGroup: 1,
      gainPenalty: beta, catGainPenalty: gamma,
    };
    const rows = allRows(n);
    // slow twin: exhaustive best per feature, minus beta * ln(K) with K counted from the rows
    let best = -Infinity;
    let bestRaw = 0;
    let bestF = -1;
    data.features.forEach((feat, f) => {
      const only = dataset([feat]);
      const c = exhaustiveBest(only, rows, g, h, p);
      if (c === null) return;
      const present = new Set<number>();
      let miss = 0;
      for (const r of rows) {
        if (feat.kind === 'numeric' && feat.bins[r] === 0) miss = 1;
        else present.add(feat.bins[r]);
      }
      const K = feat.kind === 'categorical' ? present.size - 1 : (present.size - 1) * (1 + miss) + miss;
      const adj = c.gain - beta * Math.log(Math.max(1, K)) - (feat.kind === 'categorical' ? gamma * (Math.max(1, K) - 1) : 0);
      if (adj > 0 && adj > best + 1e-12) { best = adj; bestRaw = c.gain; bestF = f; }
    });
    const fast = fastBest(data, rows, g, h, p);
    if (bestF < 0) {
      t.equal(fast.gain, -Infinity, `trial ${trial}: no split`);
      continue;
    }
    checked++;
    t.ok(Math.abs(fast.gain - best) < 1e-9 * Math.max(1, best), `trial ${trial}: adjusted ${fast.gain} vs ${best}`);
    t.ok(Math.abs(fast.rawGain - bestRaw) < 1e-9 * Math.max(1, bestRaw), `trial ${trial}: raw ${fast.rawGain} vs ${bestRaw}`);
    t.equal(fast.feature, bestF);
  }
  t.ok(checked > 15, `${checked} trials had a split`);
});

t.test('maxTreeRows: trees grown on about that many rows; scores of all rows still updated', async (t) => {
  const { data, y, truth } = logisticData(13, 20000);
  const rows = allRows(data.n);
  const p = { ...BASE, nIter: 40, maxTreeRows: 4000, minSamplesLeaf: 20 };
  const m = fitGbmClassifier(data, rows, y, p, 2);
  const ts = new Float64Array(data.n);
  fitGbmClassifier(data, rows, y, p, 2, { trainScores: ts });
  const raw = m.predictRaw(data);
  let maxd = 0;
  for (let i = 0; i < data.n; i++) maxd = Math.max(maxd, Math.abs(ts[i] - raw[i]));
  t.ok(maxd < 1e-9, `training scores = predictions for every row (max diff ${maxd})`);
  // learns the function anyway
  const pr = m.predictProba(data);
  let err = 0;
  for (let i = 0; i < data.n; i++) err += Math.abs(pr[i] - truth[i]);
  t.ok(err / data.n < 0.05, `mean |p - truth| = ${(err / data.n).toFixed(4)}`);
  // and differs from the uncapped fit (the cap is active)
  const full = fitGbmClassifier(data, rows, y, { ...p, maxTreeRows: undefined }, 2).predictRaw(data);
  let diff = 0;
  for (let i = 0; i < data.n; i++) if (full[i] !== raw[i]) diff++;
  t.ok(diff > 0);
});

// ---------- weighted squared-loss regressor ----------

t.test('regressor: no usable rows or features -> the weighted mean', async (t) => {
  const n = 6;
  const data = dataset([feature('x', 'numeric', 3, Uint8Array.from([1, 1, 1, 2, 2, 2]))]);
  const z = Float64Array.from([1, 2, 3, 4, 5, 6]);
  const w = Float64Array.from([1, 1, 1, 1, 1, 5]);
  const noFeat: BinnedDataset = { ...data, features: [] };
  const m = fitGbmRegressor(noFeat, allRows(n), z, w, { ...BASE, nIter: 5 }, 1);
  // slow twin: sum(w z) / sum(w)
  t.equal(m.nTrees, 0);
  t.ok(Math.abs(m.initScore - (1 + 2 + 3 + 4 + 5 + 30) / 10) < 1e-12);
  const zeroW = fitGbmRegressor(data, allRows(n), z, new Float64Array(n), { ...BASE, nIter: 5 }, 1);
  t.equal(zeroW.nTrees, 0, 'all weights 0: nothing to fit');
  t.throws(() => fitGbmRegressor(data, allRows(n), z, w, BASE, 1, { offset: new Float64Array(n) }));
});

t.test('regressor: one full-step stump recovers a two-level step exactly; leaf = -G/(H + l2)', async (t) => {
  const rng = createRng(5);
  const n = 400;
  const bins = randomBins(rng, n, 5, 0);
  const data = dataset([feature('x', 'numeric', 5, bins), feature('noise', 'numeric', 5, randomBins(rng, n, 5, 0))]);
  const z = Float64Array.from(bins, (b) => (b >= 3 ? 2 : -1));
  const w = new Float64Array(n).fill(1);
  const m = fitGbmRegressor(data, allRows(n), z, w, { ...BASE, nIter: 1, learningRate: 1, maxDepth: 1, minSamplesLeaf: 1, l2: 0 }, 3);
  t.equal(m.nTrees, 1);
  const pred = m.predictRaw(data);
  let maxErr = 0;
  for (let i = 0; i < n; i++) maxErr = Math.max(maxErr, Math.abs(pred[i] - z[i]));
  t.ok(maxErr < 1e-9, `step recovered (max error ${maxErr})`);
  t.ok(m.importance()[0] > 0 && m.importance()[1] === 0, 'gain on the step feature only');
  // with l2 the leaf values shrink toward the initial score by H / (H + l2) (slow twin by hand)
  const l2 = 50;
  const s = fitGbmRegressor(data, allRows(n), z, w, { ...BASE, nIter: 1, learningRate: 1, maxDepth: 1, minSamplesLeaf: 1, l2 }, 3);
  const init = z.reduce((a, b) => a + b, 0) / n;
  const hi = Array.from(bins).filter((b) => b >= 3).length;
  const expectHi = init + (hi * (2 - init)) / (hi + l2);
  const ps = s.predictRaw(data);
  const iHi = Array.from(bins).findIndex((b) => b >= 3);
  t.ok(Math.abs(ps[iHi] - expectHi) < 1e-9, `shrunk leaf ${ps[iHi]} vs ${expectHi}`);
});

t.test('regressor: weights act as row multiplicities; zero-weight rows are ignored', async (t) => {
  const rng = createRng(8);
  const n = 300;
  const data = dataset([feature('x', 'numeric', 9, randomBins(rng, n, 9, 0.1))]);
  const z = Float64Array.from({ length: n }, () => rng.next() * 2 - 1);
  const w = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 2 : i % 3 === 1 ? 1 : 0));
  const p = { ...BASE, nIter: 3, learningRate: 0.5, maxDepth: 2, minSamplesLeaf: 1, minHessianLeaf: 0, l2: 1 };
  const weighted = fitGbmRegressor(data, allRows(n), z, w, p, 4).predictRaw(data);
  // slow twin: rows with weight 2 duplicated, rows with weight 0 left out, unit weights
  const dupRows: number[] = [];
  for (let i = 0; i < n; i++) for (let k = 0; k < w[i]; k++) dupRows.push(i);
  const m2 = dupRows.length;
  const dupData = dataset([feature('x', 'numeric', 9, Uint8Array.from(dupRows, (i) => data.features[0].bins[i]))]);
  const dupZ = Float64Array.from(dupRows, (i) => z[i]);
  const dupModel = fitGbmRegressor(dupData, allRows(m2), dupZ, new Float64Array(m2).fill(1), p, 4);
  const back = dupModel.predictRaw(data);
  let maxd = 0;
  for (let i = 0; i < n; i++) maxd = Math.max(maxd, Math.abs(back[i] - weighted[i]));
  t.ok(maxd < 1e-9, `same model as the duplicated-row fit (max diff ${maxd})`);
});
