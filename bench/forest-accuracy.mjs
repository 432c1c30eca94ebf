#!/usr/bin/env node
// Uplift forest alone: in-sample accuracy and fit time on the lab scenarios (run `npm run build` first).
//
//   node bench/forest-accuracy.mjs [--rows 50000] [--seed 7] [--scenarios persuadables,lowsignal,highcard,null]
//        [--config '{"maxDepth":6,...}'] [--grid] [--fit-rows 33333] [--fast] [--dir /tmp/forest-bench]
//        [--forest-seeds 1000,2000,3000]
//
// Per scenario: generates the campaign with ../shared/lab/gen.mjs (cached in --dir), toRawDataset +
// encode, fits the forest (DEFAULT_FOREST overridden by --config; with --grid every FOREST_GRID entry)
// on all rows, scores the same rows, writes `id,uplift` (rounded to 4 decimals like the API) and runs
// ../shared/lab/evaluate.mjs --truth on it (with --fast: the same Spearman / gain-share formulas in
// process). Also times one fit on --fit-rows rows (a CV training fold; default 2/3 of the rows).
// With several --forest-seeds the accuracy columns are means over forests fitted with each seed (a
// 50-tree forest's Spearman varies by about +-0.02 with its seed), plus the Spearman range.
//
// Measured (2-core machine shared with other jobs, load 4-7, so times are upper bounds):
//   node bench/forest-accuracy.mjs --grid --forest-seeds 1000,2000
//   scenario      cfg  spearman  gain@20  rms     target        fit(fold)ms fit(all)ms
//   persuadables  #0   0.854     0.963            0.85/0.94     141         200
//   lowsignal     #0   0.732     0.914            0.72/0.91     149         278
//   highcard      #0   0.617     0.742            0.6/0.72      125         203
//   null          #0                      0.0049  0.012         186         210
//   (#1-#3 in src/ml/forest/defaults.ts)
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { evaluateScores, labCampaign } from './lib/lab.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { toRawDataset } = await import(join(root, 'dist/src/ml/data/columnar.js'));
const { encode } = await import(join(root, 'dist/src/ml/data/encode.js'));
const { fitUpliftForest } = await import(join(root, 'dist/src/ml/forest/forest.js'));
const { DEFAULT_FOREST, FOREST_GRID } = await import(join(root, 'dist/src/ml/forest/defaults.js'));

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) args[k] = true;
  else { args[k] = v; i++; }
}
const rows = Number(args.rows ?? 50000);
const seed = Number(args.seed ?? 7);
const scenarios = String(args.scenarios ?? 'persuadables,lowsignal,highcard,null').split(',');
const dir = String(args.dir ?? '/tmp/forest-bench');
const fitRows = Number(args['fit-rows'] ?? Math.round((rows * 2) / 3));
const fast = Boolean(args.fast);
const forestSeeds = String(args['forest-seeds'] ?? '42').split(',').map(Number);
mkdirSync(dir, { recursive: true });
const configs = args.grid ? FOREST_GRID : [{ ...DEFAULT_FOREST, ...(args.config ? JSON.parse(args.config) : {}) }];

const TARGETS = { persuadables: [0.85, 0.94], lowsignal: [0.72, 0.91], highcard: [0.6, 0.72], null: [0.012] };

function ranks(v) {
  const idx = Array.from(v.keys()).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i; while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
function pearson(a, b) {
  let ma = 0, mb = 0; for (let i = 0; i < a.length; i++) { ma += a[i]; mb += b[i]; } ma /= a.length; mb /= b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}
function metricsInProcess(s, t) {
  const order = Array.from(s.keys()).sort((a, b) => s[b] - s[a]);
  const byTruth = Array.from(t).sort((a, b) => b - a);
  const m = Math.round(s.length * 0.2);
  let got = 0, best = 0; for (let i = 0; i < m; i++) { got += t[order[i]]; best += byTruth[i]; }
  return { spearman: pearson(ranks(s), ranks(t)), gain_share_at_20: got / best };
}

const out = [];
for (const scenario of scenarios) {
  const req = join(dir, `${scenario}-${rows}-${seed}.json`);
  const truthFile = join(dir, `${scenario}-${rows}-${seed}.truth.csv`);
  const { body } = labCampaign({ scenario, rows, seed, req, truth: truthFile });
  const truthLines = readFileSync(truthFile, 'utf8').trim().split('\n').slice(1);
  const truth = Float64Array.from(truthLines, (l) => Number(l.split(',')[1]));
  const ids = body.rows.map((r) => r.id);
  const t0 = performance.now();
  const raw = toRawDataset(body.rows);
  const t1 = performance.now();
  const data = encode(raw);
  const t2 = performance.now();
  const all = Uint32Array.from({ length: data.n }, (_, i) => i);
  const fold = Uint32Array.from({ length: Math.min(fitRows, data.n) }, (_, i) => i);
  for (const [ci, config] of configs.entries()) {
    // fit time on a CV-sized training set (best of 3 after one warm-up)
    fitUpliftForest(data, fold, config, 1);
    const times = [];
    for (let r = 0; r < 3; r++) {
      const a = performance.now();
      fitUpliftForest(data, fold, config, 2 + r);
      times.push(performance.now() - a);
    }
    const acc = [];
    let fitAllMs = 0, predictMs = 0;
    for (const fs of forestSeeds) {
      const f0 = performance.now();
      const model = fitUpliftForest(data, all, config, fs);
      const f1 = performance.now();
      const pred = model.predict(data);
      const f2 = performance.now();
      fitAllMs += (f1 - f0) / forestSeeds.length;
      predictMs += (f2 - f1) / forestSeeds.length;
      const scores = Float64Array.from(pred, (x) => { const r = Math.round(x * 1e4) / 1e4; return r === 0 ? 0 : r; });
      if (scenario === 'null') {
        let ss = 0; for (const x of scores) ss += x * x;
        acc.push({ rms: Math.sqrt(ss / scores.length) });
      } else if (fast) {
        acc.push(metricsInProcess(scores, truth));
      } else {
        const ev = evaluateScores({ ids, scores, truth: truthFile, csv: join(dir, `${scenario}-scores.csv`) });
        acc.push({ spearman: ev.spearman, gain_share_at_20: ev.gain_share_at_20 });
      }
    }
    const meanOf = (k) => (acc[0][k] === undefined ? undefined : acc.reduce((a, r) => a + r[k], 0) / acc.length);
    const res = { spearman: meanOf('spearman'), gain_share_at_20: meanOf('gain_share_at_20'), rms: meanOf('rms'),
      range: acc[0].spearman === undefined ? '' : `${Math.min(...acc.map((r) => r.spearman)).toFixed(3)}..${Math.max(...acc.map((r) => r.spearman)).toFixed(3)}` };
    out.push({ scenario, config: ci, ...res, fitFoldMs: Math.min(...times), fitAllMs, predictMs, rawMs: t1 - t0, encodeMs: t2 - t1 });
  }
}
const fmt = (x, d = 3) => (x === undefined ? '' : x.toFixed(d));
console.log('config: ' + configs.map((c, i) => `#${i} ${JSON.stringify(c)}`).join('\n        '));
console.log(`forest seeds: ${forestSeeds.join(',')}; fit(fold) = best of 3 fits on ${fitRows} rows; fit/predict(all) on all rows`);
console.log('scenario      cfg  spearman  gain@20  rms     target        fit(fold)ms fit(all)ms predict(all)ms encode ms  spearman range');
for (const r of out) {
  const tg = TARGETS[r.scenario] ?? [];
  console.log(
    `${r.scenario.padEnd(13)} #${String(r.config).padEnd(3)} ${fmt(r.spearman).padEnd(9)} ${fmt(r.gain_share_at_20).padEnd(8)} ${fmt(r.rms, 4).padEnd(7)} ${tg.join('/').padEnd(13)} ` +
    `${fmt(r.fitFoldMs, 0).padEnd(11)} ${fmt(r.fitAllMs, 0).padEnd(10)} ${fmt(r.predictMs, 0).padEnd(14)} ${fmt(r.encodeMs, 0).padEnd(10)} ${r.range}`,
  );
}
