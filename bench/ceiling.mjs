#!/usr/bin/env node
// How far could model selection go? Every candidate of options.model "auto" (the four forests of
// FOREST_GRID with the final model's 150 trees, the two T-learners of TLEARNER_GRID), the forest x
// T-learner blends that selection can pick, the mean of all four forests, and a causalml-shaped forest
// (KL, depth 5, 100-row leaves, n_reg 10, bootstrap, 10 features per node like causalml's default
// max_features, 100 trees - the shape
// of the reference, fitted by our engine) - each fitted on ALL rows and scored on the same rows
// (what the API returns), judged by ../shared/lab/evaluate.mjs against the true uplift.
// The best entry of a row is an upper bound for any selection rule over these candidates.
// Run `npm run build` first; needs ../shared/lab.
//
//   node bench/ceiling.mjs [--seeds 7,8,9,10,11] [--scenarios persuadables,lowsignal] [--rows 50000]
//
// Prints, per scenario and seed, Spearman / gain share at 20 % of each candidate, then the mean
// Spearman per candidate over the seeds.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateScores, labCampaign } from './lib/lab.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const D = join(root, 'dist/src/ml/');
const { toRawDataset } = await import(D + 'data/columnar.js');
const { encode } = await import(D + 'data/encode.js');
const { fitModel, gridFor, describeConfig } = await import(D + 'models.js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const seeds = (args.seeds ?? '7,8,9,10,11').split(',').map(Number);
const scenarios = (args.scenarios ?? 'persuadables,lowsignal').split(',');
const rows = Number(args.rows ?? 50000);
const dir = join(root, 'bench', 'out', 'lab');
mkdirSync(dir, { recursive: true });

const grid = gridFor('auto');
const withFinalTrees = (c) => (c.family === 'uplift_rf' ? { ...c, nTrees: 150 } : c);
const indices = (family) => grid.flatMap((c, i) => (c.family === family ? [i] : []));
const forests = indices('uplift_rf');
const tlearners = indices('t_learner');
// maxFeatures is a share of the campaign's features: 10 of them (all when there are fewer)
const causalmlShape = (nFeatures) => ({
  ...grid[forests[0]],
  criterion: 'KL', maxDepth: 5, minSamplesLeaf: 100, minSamplesTreatment: 10, nReg: 10,
  honest: false, sampleFraction: 1, maxFeatures: Math.min(1, 10 / nFeatures), nTrees: 100,
});
console.log(`rows=${rows} seeds=${seeds.join(',')}; candidates fitted on all rows, scored in-sample`);
grid.forEach((c, i) => console.log(`  #${i} ${describeConfig(withFinalTrees(c))}`));
console.log(`  ref ${describeConfig({ ...causalmlShape(10), maxFeatures: 'min(10 features, all)' })}`);

const mean = (arrays) => arrays[0].map((_, r) => arrays.reduce((a, p) => a + p[r], 0) / arrays.length);
const summary = {};
for (const sc of scenarios) {
  for (const seed of seeds) {
    const base = join(dir, `${sc}-${rows}-s${seed}`);
    const { body } = labCampaign({ scenario: sc, rows, seed, req: base + '.json', truth: base + '.truth.csv' });
    const data = encode(toRawDataset(body.rows));
    const all = Uint32Array.from({ length: data.n }, (_, i) => i);
    const preds = new Map();
    for (const i of [...forests, ...tlearners]) preds.set(`#${i}`, fitModel(data, all, withFinalTrees(grid[i]), 11 + i).predict(data, all));
    for (const i of forests) for (const j of tlearners) preds.set(`#${i}+#${j}`, mean([preds.get(`#${i}`), preds.get(`#${j}`)]));
    preds.set('forests', mean(forests.map((i) => preds.get(`#${i}`))));
    preds.set('ref', fitModel(data, all, causalmlShape(data.features.length), 7).predict(data, all));
    const cells = [];
    let best = null;
    for (const [name, p] of preds) {
      const clipped = Array.from(p, (x) => Math.max(-1, Math.min(1, x)));
      const ev = evaluateScores({ ids: body.rows.map((r) => r.id), scores: clipped, truth: base + '.truth.csv', csv: join(dir, 'ceiling-scores.csv') });
      (summary[`${sc} ${name}`] ??= []).push(ev.spearman);
      cells.push(`${name} ${ev.spearman.toFixed(3)}/${ev.gain_share_at_20.toFixed(3)}`);
      if (name !== 'ref' && (!best || ev.spearman > best.s)) best = { name, s: ev.spearman };
    }
    console.log(`${sc} seed ${seed}: best ${best.name} ${best.s.toFixed(3)} | ${cells.join('  ')}`);
  }
}
console.log('\nmean Spearman over the seeds');
for (const [k, v] of Object.entries(summary)) {
  console.log(`${k.padEnd(24)} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}   (${v.map((x) => x.toFixed(3)).join(' ')})`);
}
