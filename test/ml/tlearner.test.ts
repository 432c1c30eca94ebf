import t from 'tap';
import type { BinnedDataset, TLearnerConfig } from '../../src/ml/types.js';
import { createRng } from '../../src/ml/rng.js';
import { fitTLearner, tlearnerOptions, TLearnerModel } from '../../src/ml/boosting/tlearner.js';
import { TLEARNER_GRID } from '../../src/ml/boosting/defaults.js';
import { fitGbmClassifier } from '../../src/ml/boosting/gbm.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * x1: 10 numeric bins (baseline risk), x2: 6-level categorical; true uplift = +0.2 for levels {1, 4},
 * else 0; x3 noise. Returns the data and the true uplift per row.
 */
function upliftData(seed: number, n: number) {
  const rng = createRng(seed);
  const b1 = new Uint8Array(n), b2 = new Uint8Array(n), b3 = new Uint8Array(n);
  const tr = new Uint8Array(n), y = new Uint8Array(n);
  const tau = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    b1[i] = 1 + rng.int(10);
    b2[i] = 1 + rng.int(6);
    b3[i] = 1 + rng.int(40);
    const p0 = sigmoid(-1.5 + 0.2 * b1[i]);
    tau[i] = b2[i] === 1 || b2[i] === 4 ? 0.2 : 0;
    tr[i] = rng.next() < 0.5 ? 1 : 0;
    y[i] = rng.next() < p0 + (tr[i] ? tau[i] : 0) ? 1 : 0;
  }
  const data: BinnedDataset = {
    n,
    treatment: tr,
    outcome: y,
    features: [
      { name: 'x1', kind: 'numeric', nBins: 11, bins: b1 },
      { name: 'x2', kind: 'categorical', nBins: 7, bins: b2 },
      { name: 'x3', kind: 'numeric', nBins: 41, bins: b3 },
    ],
    report: { droppedConstant: [], pooled: [] },
  };
  return { data, tau };
}
const allRows = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);
const CFG: TLearnerConfig = { family: 't_learner', nIter: 60, learningRate: 0.1, maxDepth: 3, minSamplesLeaf: 50, l2: 5 };

function groupMeans(score: Float64Array, tau: Float64Array) {
  let hi = 0, nh = 0, lo = 0, nl = 0;
  for (let i = 0; i < score.length; i++) {
    if (tau[i] > 0) { hi += score[i]; nh++; } else { lo += score[i]; nl++; }
  }
  return { hi: hi / nh, lo: lo / nl };
}

t.test('T-learner recovers a known uplift (shared base and classic)', async (t) => {
  const { data, tau } = upliftData(1, 16000);
  for (const withBase of [true, false]) {
    const opts = tlearnerOptions(CFG);
    if (!withBase) opts.base = null;
    const m = fitTLearner(data, allRows(data.n), CFG, 3, opts);
    t.equal(m.base === null, !withBase);
    const s = m.predict(data);
    const g = groupMeans(s, tau);
    t.ok(Math.abs(g.hi - 0.2) < 0.06, `${withBase ? 'base' : 'classic'}: mean score where uplift is 0.2: ${g.hi.toFixed(3)}`);
    t.ok(Math.abs(g.lo) < 0.04, `${withBase ? 'base' : 'classic'}: mean score where uplift is 0: ${g.lo.toFixed(3)}`);
    const imp = m.importance();
    t.ok(imp[1] > imp[2], 'the effect-carrying categorical matters more than noise');
  }
});

t.test('predict = p1 - p0 of the arm models; fits only the given rows', async (t) => {
  const { data } = upliftData(2, 6000);
  const rows = allRows(data.n).filter((i) => i % 3 !== 0);
  const m = fitTLearner(data, rows, CFG, 9);
  const { p1, p0 } = m.predictArms(data);
  const s = m.predict(data);
  for (let i = 0; i < s.length; i++) if (Math.abs(s[i] - (p1[i] - p0[i])) > 1e-15) t.fail(`row ${i}`);
  t.ok(p1.every((v) => v > 0 && v < 1) && p0.every((v) => v > 0 && v < 1));
  // Classic T-learner = two independent GBMs on the arms' rows, same seeds: check against a direct fit.
  const opts = tlearnerOptions(CFG);
  opts.base = null;
  const classic = fitTLearner(data, rows, CFG, 9, opts);
  // Seeds are derived per arm: refit the treated arm directly with the same seed derivation.
  const tRows = rows.filter((r) => data.treatment[r] === 1);
  const { deriveSeed } = await import('../../src/ml/rng.js');
  const direct = fitGbmClassifier(data, tRows, data.outcome, opts.arm, deriveSeed(9, 1));
  t.same(Array.from(classic.treated.predictProba(data, allRows(50))), Array.from(direct.predictProba(data, allRows(50))));
  const imp = classic.importance();
  const a = classic.treated.importance(), b = classic.control.importance();
  t.same(Array.from(imp), Array.from(a, (v, i) => v + b[i]));
});

t.test('deterministic for a seed; buffers round trip', async (t) => {
  const { data } = upliftData(3, 5000);
  const rows = allRows(data.n);
  const a = fitTLearner(data, rows, CFG, 5).predict(data);
  const m = fitTLearner(data, rows, CFG, 5);
  const b = m.predict(data);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  t.equal(diff, 0);
  const copy = TLearnerModel.fromBuffers(structuredClone(m.toBuffers()));
  const c = copy.predict(data, rows);
  diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== c[i]) diff++;
  t.equal(diff, 0, 'restored model scores identically');
});

t.test('no effect: scores stay small', async (t) => {
  // Same generator with tau forced to 0: re-draw outcomes without effect.
  const { data } = upliftData(4, 20000);
  const rng = createRng(99);
  for (let i = 0; i < data.n; i++) data.outcome[i] = rng.next() < sigmoid(-1.5 + 0.2 * data.features[0].bins[i]) ? 1 : 0;
  const s = fitTLearner(data, allRows(data.n), TLEARNER_GRID[0], 1).predict(data);
  let ss = 0;
  for (const v of s) ss += v * v;
  t.ok(Math.sqrt(ss / s.length) < 0.03, `RMS of scores ${Math.sqrt(ss / s.length).toFixed(4)}`);
});

t.test('TLEARNER_GRID holds valid configurations', async (t) => {
  t.ok(TLEARNER_GRID.length >= 2);
  for (const c of TLEARNER_GRID) {
    t.equal(c.family, 't_learner');
    t.ok(c.nIter > 0 && c.learningRate > 0 && c.learningRate <= 1 && c.maxDepth >= 1 && c.minSamplesLeaf >= 1 && c.l2 >= 0);
  }
  t.equal(new Set(TLEARNER_GRID.map((c) => JSON.stringify(c))).size, TLEARNER_GRID.length, 'distinct');
});

t.test('edge cases: tiny data, one arm empty, no features', async (t) => {
  const { data } = upliftData(5, 200);
  for (const cfg of TLEARNER_GRID) {
    const s = fitTLearner(data, allRows(200), cfg, 1).predict(data);
    t.ok(s.every((v) => Number.isFinite(v) && v > -1 && v < 1), '200 rows: finite scores in (-1, 1)');
  }
  // only treated rows in the training set: the control arm is a constant (its base-offset intercept)
  const treatedOnly = allRows(200).filter((r) => data.treatment[r] === 1);
  const m = fitTLearner(data, treatedOnly, TLEARNER_GRID[0], 1);
  t.equal(m.control.nTrees, 0);
  t.ok(m.predict(data).every((v) => Number.isFinite(v)));
  // no features at all: uplift = difference of the arms' base rates for every row
  const bare = { ...data, features: [] };
  const s = fitTLearner(bare, allRows(200), TLEARNER_GRID[0], 1).predict(bare);
  let y1 = 0, n1 = 0, y0 = 0, n0 = 0;
  for (let i = 0; i < 200; i++) {
    if (data.treatment[i]) { y1 += data.outcome[i]; n1++; } else { y0 += data.outcome[i]; n0++; }
  }
  t.ok(s.every((v) => Math.abs(v - s[0]) < 1e-12), 'constant');
  t.ok(Math.abs(s[0] - (y1 / n1 - y0 / n0)) < 1e-6, `constant = observed ATE (${s[0].toFixed(4)} vs ${(y1 / n1 - y0 / n0).toFixed(4)})`);
});

t.test('fitTLearners shares the base and equals one fit per configuration', async (t) => {
  const { data } = upliftData(6, 6000);
  const rows = allRows(data.n).filter((i) => i % 3 !== 1);
  const { fitTLearners } = await import('../../src/ml/boosting/tlearner.js');
  const seeds = [11, 12];
  const many = fitTLearners(data, rows, TLEARNER_GRID, seeds);
  t.equal(many.length, TLEARNER_GRID.length);
  t.equal(many[0].base, many[1].base, 'one shared base model object');
  TLEARNER_GRID.forEach((cfg, i) => {
    const one = fitTLearner(data, rows, cfg, seeds[i]).predict(data);
    const shared = many[i].predict(data);
    let diff = 0;
    for (let k = 0; k < one.length; k++) if (one[k] !== shared[k]) diff++;
    t.equal(diff, 0, `config ${i}: identical scores`);
  });
  // a subsampled base is not shared (its seed matters)
  const opts = TLEARNER_GRID.map((c) => {
    const o = tlearnerOptions(c);
    o.base = { ...o.base!, subsample: 0.8 };
    return o;
  });
  const sub = fitTLearners(data, rows, TLEARNER_GRID, seeds, opts);
  t.not(sub[0].base, sub[1].base);
});

t.test('no effect with a many-level categorical: the categorical penalty keeps scores small', async (t) => {
  const rng = createRng(77);
  const n = 20000;
  const b1 = new Uint8Array(n), cat = new Uint8Array(n), tr = new Uint8Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    b1[i] = 1 + rng.int(10);
    cat[i] = 1 + rng.int(60);
    tr[i] = rng.next() < 0.5 ? 1 : 0;
    y[i] = rng.next() < sigmoid(-1 + 0.15 * b1[i]) ? 1 : 0;
  }
  const data: BinnedDataset = {
    n, treatment: tr, outcome: y,
    features: [
      { name: 'x1', kind: 'numeric', nBins: 11, bins: b1 },
      { name: 'area', kind: 'categorical', nBins: 61, bins: cat },
    ],
    report: { droppedConstant: [], pooled: [] },
  };
  const rms = (s: Float64Array) => Math.sqrt(s.reduce((a, v) => a + v * v, 0) / s.length);
  const cfg = TLEARNER_GRID[0];
  const withPen = fitTLearner(data, allRows(n), cfg, 1);
  const o = tlearnerOptions(cfg);
  o.arm = { ...o.arm, catGainPenalty: 0 };
  const without = fitTLearner(data, allRows(n), cfg, 1, o);
  const a = rms(withPen.predict(data));
  const b = rms(without.predict(data));
  t.ok(a < 0.015, `RMS with the categorical penalty ${a.toFixed(4)}`);
  t.ok(a < b, `lower than without it (${b.toFixed(4)})`);
  t.ok(withPen.importance()[1] < without.importance()[1], 'less gain spent on the categorical');
});
