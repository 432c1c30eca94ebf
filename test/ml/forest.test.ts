import t from 'tap';
import { loadLab } from '../lab.js';
import { fitUpliftForest, mergeForests, UpliftForest, featuresPerNode } from '../../src/ml/forest/forest.js';
import { FOREST_GRID, DEFAULT_FOREST } from '../../src/ml/forest/defaults.js';
import { leafOf } from '../../src/ml/tree/flat.js';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { encode } from '../../src/ml/data/encode.js';
import type { BinnedDataset, ForestConfig } from '../../src/ml/types.js';
import { synth, allRows } from './forest-helpers.js';

const data = synth({
  n: 4000,
  seed: 21,
  numeric: [{ nBins: 60, missing: 0.1 }, { nBins: 20, missing: 0 }, { nBins: 256, missing: 0 }],
  categorical: [{ nBins: 9, missing: 0.05 }],
  tau: (b) => (b[0] > 30 ? 0.25 : 0) - (b[3] === 2 ? 0.15 : 0),
});
const config: ForestConfig = {
  family: 'uplift_rf', criterion: 'KL', nTrees: 9, maxDepth: 4, minSamplesLeaf: 60, minSamplesTreatment: 10,
  nReg: 50, maxFeatures: 0.5, sampleFraction: 0.8,
};

/** Slow twin of predict: mean over trees of leafOf's value, one row at a time. */
function naivePredict(model: UpliftForest, d: BinnedDataset, rows: number[]): number[] {
  const cols = d.features.map((f) => f.bins);
  return rows.map((r) => {
    let s = 0;
    for (const tree of model.treeList) s += tree.value[leafOf(tree, cols, r)];
    return s / model.treeList.length;
  });
}

t.test('predict equals the naive per-row traversal (all rows and a subset)', async (t) => {
  for (const honest of [false, true]) {
    const m = fitUpliftForest(data, allRows(data.n), { ...config, honest }, 3);
    t.equal(m.trees, 9);
    const fast = m.predict(data);
    const slow = naivePredict(m, data, Array.from(allRows(data.n)));
    let maxDiff = 0;
    for (let i = 0; i < data.n; i++) maxDiff = Math.max(maxDiff, Math.abs(fast[i] - slow[i]));
    t.ok(maxDiff < 1e-12, `max diff ${maxDiff}`);
    const subset = Uint32Array.from([5, 3999, 17, 17, 0, 2500, 1]);
    const sub = m.predict(data, subset);
    t.same(Array.from(sub), Array.from(subset, (r) => fast[r]));
  }
});

t.test('deterministic: same seed same forest, other seed other forest', async (t) => {
  const rows = allRows(data.n);
  const a = fitUpliftForest(data, rows, config, 7).toBuffers();
  const b = fitUpliftForest(data, rows, config, 7).toBuffers();
  const c = fitUpliftForest(data, rows, config, 8).toBuffers();
  t.same(a, b);
  t.notSame(Array.from(a.value), Array.from(c.value));
});

t.test('tree ranges fitted separately and merged == one-shot forest', async (t) => {
  const rows = Uint32Array.from(allRows(data.n).filter((r) => r % 3 !== 0));
  for (const honest of [false, true]) {
    const cfg = { ...config, honest };
    const one = fitUpliftForest(data, rows, cfg, 99);
    const parts = [fitUpliftForest(data, rows, cfg, 99, [4, 9]), fitUpliftForest(data, rows, cfg, 99, [0, 1]), fitUpliftForest(data, rows, cfg, 99, [1, 4])];
    const merged = mergeForests(parts);
    t.same(merged.toBuffers(), one.toBuffers());
    t.same(Array.from(merged.predict(data)), Array.from(one.predict(data)));
    t.same(Array.from(merged.importance()), Array.from(one.importance()));
  }
  t.throws(() => mergeForests([fitUpliftForest(data, rows, config, 1, [0, 2]), fitUpliftForest(data, rows, config, 1, [1, 3])]));
});

t.test('buffers round trip', async (t) => {
  const m = fitUpliftForest(data, allRows(data.n), config, 5);
  const back = UpliftForest.fromBuffers(structuredClone(m.toBuffers()));
  t.same(Array.from(back.predict(data)), Array.from(m.predict(data)));
  t.same(Array.from(back.importance()), Array.from(m.importance()));
});

t.test('importance: normalised, planted features on top', async (t) => {
  const m = fitUpliftForest(data, allRows(data.n), { ...config, nTrees: 20 }, 5);
  const imp = m.importance();
  t.ok(Math.abs(imp.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  t.ok(imp[0] > imp[1] && imp[0] > imp[2], `importance ${Array.from(imp)}`);
});

t.test('featuresPerNode and grid sanity', async (t) => {
  t.equal(featuresPerNode(0.5, 12), 6);
  t.equal(featuresPerNode(0.01, 12), 1);
  t.equal(featuresPerNode(1, 12), 12);
  t.ok(FOREST_GRID.length >= 4);
  for (const c of [DEFAULT_FOREST, ...FOREST_GRID]) {
    t.equal(c.family, 'uplift_rf');
    t.ok(c.maxFeatures > 0 && c.maxFeatures <= 1 && c.sampleFraction > 0 && c.nTrees > 0);
  }
});

function ranks(v: ArrayLike<number>): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((x, y) => x + y, 0) / a.length, mb = b.reduce((x, y) => x + y, 0) / b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return sab / Math.sqrt(saa * sbb);
}

t.test('accuracy guard: 5 000 lab persuadables rows, Spearman vs true uplift well above 0', async (t) => {
  const { body, truth: truthArr } = loadLab('persuadables-5000-s3');
  const truth = Array.from(truthArr);
  const d = encode(toRawDataset(body.rows));
  for (const cfg of [DEFAULT_FOREST, ...FOREST_GRID]) {
    const m = fitUpliftForest(d, allRows(d.n), cfg, 1);
    const rho = pearson(ranks(m.predict(d)), ranks(truth));
    t.ok(rho > 0.3, `${JSON.stringify(cfg)}: spearman ${rho.toFixed(3)}`);
  }
});

t.test('edge cases: no features, a handful of rows, one arm only', async (t) => {
  const noFeat: BinnedDataset = { n: 50, treatment: Uint8Array.from({ length: 50 }, (_, i) => i % 2), outcome: Uint8Array.from({ length: 50 }, (_, i) => (i % 4 === 1 ? 1 : 0)), features: [], report: { droppedConstant: [], pooled: [] } };
  for (const honest of [false, true]) {
    const m = fitUpliftForest(noFeat, allRows(50), { ...config, honest }, 1);
    const p = m.predict(noFeat);
    t.equal(p.length, 50);
    t.ok(p.every((v) => Number.isFinite(v) && v === p[0]), 'one constant score');
    t.same(Array.from(m.importance()), []);
  }
  const tiny = synth({ n: 7, seed: 2, numeric: [{ nBins: 5, missing: 0.2 }], categorical: [{ nBins: 3, missing: 0 }] });
  const mt = fitUpliftForest(tiny, allRows(7), { ...DEFAULT_FOREST, nTrees: 5 }, 1);
  t.ok(Array.from(mt.predict(tiny)).every(Number.isFinite));
  t.equal(fitUpliftForest(tiny, new Uint32Array(0), config, 1).predict(tiny).length, 7);
  const treatedOnly = synth({ n: 300, seed: 3, numeric: [{ nBins: 10, missing: 0 }] });
  treatedOnly.treatment.fill(1);
  const mo = fitUpliftForest(treatedOnly, allRows(300), config, 1);
  t.ok(Array.from(mo.predict(treatedOnly)).every((v) => Number.isFinite(v) && Math.abs(v) <= 1));
});

t.test('maxTreeRows caps the rows per tree (same as the equivalent sampleFraction)', async (t) => {
  const rows = allRows(data.n);
  for (const honest of [false, true]) {
    const capped = fitUpliftForest(data, rows, { ...config, honest, sampleFraction: 0.8, maxTreeRows: 400 }, 4);
    const small = fitUpliftForest(data, rows, { ...config, honest, sampleFraction: 0.1 }, 4);
    const uncapped = fitUpliftForest(data, rows, { ...config, honest, sampleFraction: 0.8, maxTreeRows: 1e9 }, 4);
    const plain = fitUpliftForest(data, rows, { ...config, honest, sampleFraction: 0.8 }, 4);
    t.same(capped.toBuffers(), small.toBuffers());
    t.same(uncapped.toBuffers(), plain.toBuffers());
    t.notSame(Array.from(capped.toBuffers().value), Array.from(plain.toBuffers().value));
  }
});
