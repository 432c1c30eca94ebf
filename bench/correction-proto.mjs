#!/usr/bin/env node
// Experiment (not wired into the engine): an additive R-learner correction on top of the uplift forest.
// Run `npm run build` first; needs ../shared/lab.
//
//   node bench/correction-proto.mjs [--seeds 7,8,9,10,11] [--scenarios persuadables,lowsignal,null] [--rows 50000]
//        [--gain-penalty 0.5] [--iters 300] [--lr 0.05] [--crossfit 0|1]
//
// Why: on lab seeds 8-11 the engine misses the issue-2 Spearman targets, and the gap is almost all one
// small additive effect the trees miss: adding the true +0.03 x (device = mobile) to the forest's scores
// lifts persuadables Spearman from ~0.78 to ~0.89 (docs/engine.md, section 11). Trees split first on
// the large age x engagement interaction and then see the small main effect only in fragments.
// What this does, per campaign (all rows, in-sample, like the API):
//   1. the uplift forest of FOREST_GRID[0] with 150 trees (the final model's tree count): f(x);
//   2. m(x) = P(y | x) ignoring treatment: the T-learner's shared-base GBM parameters (TLEARNER_BASE),
//      in-sample (--crossfit 1: 2-fold cross-fitted);
//   3. the Robinson / R-learner pseudo-outcome with the known propensity p (share treated):
//      z = (y - m) / (t - p), weight (t - p)^2 (Nie & Wager 2021, "Quasi-oracle estimation of
//      heterogeneous treatment effects"), weights divided by the weighted variance of z so split gains
//      are in chi-square / 2 units like the classifier's;
//   4. a stump GBM (depth 1: an additive model) with the weighted squared loss fitted to z - f(x),
//      with the T-learner arms' multiple-comparison gain penalty: a(x);
//   5. score = f(x) + a(x), clipped to [-1, 1].
// Prints Spearman / gain share at 20 % (RMS of scores for null) of f and of f + a, and the time of each step.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateScores, labCampaign } from './lib/lab.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const D = join(root, 'dist/src/ml/');
const { toRawDataset } = await import(D + 'data/columnar.js');
const { encode } = await import(D + 'data/encode.js');
const G = await import(D + 'boosting/gbm.js');
const { fitModel } = await import(D + 'models.js');
const { FOREST_GRID } = await import(D + 'forest/defaults.js');
const { TLEARNER_BASE, TLEARNER_ARM_EXTRAS } = await import(D + 'boosting/defaults.js');
if (!TLEARNER_BASE) throw new Error('TLEARNER_BASE is off (null): this experiment uses its parameters for m(x)');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const seeds = (args.seeds ?? '7,8,9,10,11').split(',').map(Number);
const scenarios = (args.scenarios ?? 'persuadables,lowsignal,null').split(',');
const rows = Number(args.rows ?? 50000);
const corrParams = {
  ...TLEARNER_ARM_EXTRAS,
  nIter: Number(args.iters ?? 300),
  learningRate: Number(args.lr ?? 0.05),
  maxDepth: 1,
  minSamplesLeaf: 400,
  l2: 30,
  gainPenalty: Number(args['gain-penalty'] ?? 0.5),
};
const crossfit = args.crossfit === '1';
const dir = join(root, 'bench', 'out', 'lab');
mkdirSync(dir, { recursive: true });

function evaluate(body, scores, truth) {
  const clipped = scores.map((x) => Math.max(-1, Math.min(1, x)));
  return evaluateScores({ ids: body.rows.map((r) => r.id), scores: clipped, truth, csv: join(dir, 'correction-scores.csv') });
}
const rms = (a) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
const fmt = (sc, e, s) => (sc === 'null' ? `RMS ${rms(s).toFixed(4)}` : `${e.spearman.toFixed(4)} / ${e.gain_share_at_20.toFixed(4)}`);

console.log(`rows=${rows} correction=${JSON.stringify({ nIter: corrParams.nIter, lr: corrParams.learningRate, gainPenalty: corrParams.gainPenalty })} crossfit=${crossfit}`);
console.log('scenario      seed | forest            | forest + additive | stumps | ms: forest  m(x)  f(train)  stumps');
for (const sc of scenarios) {
  for (const seed of seeds) {
    const base = join(dir, `${sc}-${rows}-s${seed}`);
    const { body } = labCampaign({ scenario: sc, rows, seed, req: base + '.json', truth: base + '.truth.csv' });
    const data = encode(toRawDataset(body.rows));
    const n = data.n, t = data.treatment, y = data.outcome;
    const all = Uint32Array.from({ length: n }, (_, i) => i);
    let t0 = performance.now();
    const forest = fitModel(data, all, { ...FOREST_GRID[0], nTrees: 150 }, 11);
    const msForest = performance.now() - t0;
    t0 = performance.now();
    const m = new Float64Array(n);
    if (crossfit) {
      for (let k = 0; k < 2; k++) {
        const tr = [], te = [];
        for (let i = 0; i < n; i++) ((((Math.imul(i, 2654435761) >>> 0) & 1) === k ? te : tr)).push(i);
        const mm = G.fitGbmClassifier(data, Uint32Array.from(tr), y, TLEARNER_BASE, 1000 + k);
        const pr = mm.predictProba(data, Uint32Array.from(te));
        te.forEach((r, j) => (m[r] = pr[j]));
      }
    } else {
      m.set(G.fitGbmClassifier(data, all, y, TLEARNER_BASE, 1000).predictProba(data, all));
    }
    const msM = performance.now() - t0;
    t0 = performance.now();
    const f = forest.predict(data, all);
    const msF = performance.now() - t0;
    t0 = performance.now();
    let nt = 0;
    for (let i = 0; i < n; i++) nt += t[i];
    const p = nt / n;
    const target = new Float64Array(n), w = new Float64Array(n);
    let sw = 0, swz = 0;
    for (let i = 0; i < n; i++) {
      const e = t[i] - p;
      target[i] = (y[i] - m[i]) / e;
      w[i] = e * e;
      sw += w[i];
      swz += w[i] * target[i];
    }
    let v = 0;
    for (let i = 0; i < n; i++) v += w[i] * (target[i] - swz / sw) ** 2;
    v /= sw;
    for (let i = 0; i < n; i++) {
      w[i] /= v;
      target[i] -= f[i];
    }
    const corr = G.fitGbmRegressor(data, all, target, w, corrParams, 13);
    const a = corr.predictRaw(data, all);
    const msC = performance.now() - t0;
    const fa = f.map((x, i) => x + a[i]);
    const e0 = sc === 'null' ? null : evaluate(body, f, base + '.truth.csv');
    const e1 = sc === 'null' ? null : evaluate(body, fa, base + '.truth.csv');
    console.log(`${sc.padEnd(13)} ${String(seed).padStart(4)} | ${fmt(sc, e0, f).padEnd(17)} | ${fmt(sc, e1, fa).padEnd(17)} | ${String(corr.nTrees).padStart(6)} | ${msForest.toFixed(0).padStart(10)} ${msM.toFixed(0).padStart(5)} ${msF.toFixed(0).padStart(9)} ${msC.toFixed(0).padStart(7)}`);
  }
}
