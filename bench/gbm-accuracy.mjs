#!/usr/bin/env node
// Accuracy and fit time of the boosting T-learner on lab data (runs the compiled dist/; `npm run build` first).
//
//   node bench/gbm-accuracy.mjs [--scenarios persuadables,lowsignal,highcard,null] [--rows 50000] [--seed 7]
//        [--config '{"nIter":100,...}' | --grid 0,1] [--options '{"base":{...}|null,"arm":{...}}'] [--dir /tmp/gbm-bench] [--reps 3]
//
// Per scenario: generates lab data (../shared/lab/gen.mjs, cached in --dir), encodes it with
// src/ml/data, fits the T-learner on ALL rows and scores the same rows (what the API returns), then
// runs ../shared/lab/evaluate.mjs --scores s.csv --truth truth.csv. Prints one line per
// (scenario, configuration): spearman, gain_share_at_20, RMS of scores (the `null` criterion), fit ms
// on all rows, and fit ms on 2/3 of the rows (one CV fold's training set).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lab = join(root, '..', 'shared', 'lab');
const { toRawDataset } = await import(join(root, 'dist/src/ml/data/columnar.js'));
const { encode } = await import(join(root, 'dist/src/ml/data/encode.js'));
const { fitTLearner, tlearnerOptions } = await import(join(root, 'dist/src/ml/boosting/tlearner.js'));
const { TLEARNER_GRID } = await import(join(root, 'dist/src/ml/boosting/defaults.js'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const scenarios = (args.scenarios ?? 'persuadables,lowsignal,highcard,null').split(',');
const rowsN = Number(args.rows ?? 50000);
const seed = Number(args.seed ?? 7);
const dir = args.dir ?? '/tmp/gbm-bench';
const overrides = args.options ? JSON.parse(args.options) : undefined;
// --options '{"base": {...} | null, "arm": {...}}' are merged over tlearnerOptions(config).
const optionsFor = (cfg) => {
  const d = tlearnerOptions(cfg);
  if (!overrides) return d;
  const base = overrides.base === null ? null : { ...(d.base ?? d.arm), ...overrides.base };
  return { base, arm: { ...d.arm, ...overrides.arm } };
};
let configs;
if (args.config) configs = [{ family: 't_learner', ...TLEARNER_GRID[0], ...JSON.parse(args.config) }];
else if (args.grid) configs = args.grid.split(',').map((i) => TLEARNER_GRID[Number(i)]);
else configs = TLEARNER_GRID;
mkdirSync(dir, { recursive: true });

const label = (c) => `d${c.maxDepth} it${c.nIter} lr${c.learningRate} leaf${c.minSamplesLeaf} l2=${c.l2}`;
console.log(`rows=${rowsN} seed=${seed} overrides=${JSON.stringify(overrides ?? {})}`);
console.log('scenario      config                              spearman  gain@20  rms      fit_all_ms  fit_2/3_ms');
for (const sc of scenarios) {
  const req = join(dir, `${sc}-${rowsN}-${seed}.json`);
  const truth = join(dir, `${sc}-${rowsN}-${seed}-truth.csv`);
  if (!existsSync(req) || !existsSync(truth)) {
    execFileSync('node', [join(lab, 'gen.mjs'), '--scenario', sc, '--rows', String(rowsN), '--seed', String(seed),
      '--format', 'json', '--out', req, '--truth', truth]);
  }
  const body = JSON.parse(readFileSync(req, 'utf8'));
  const data = encode(toRawDataset(body.rows));
  const all = Uint32Array.from({ length: data.n }, (_, i) => i);
  const twoThirds = all.filter((i) => i % 3 !== 0);
  for (const cfg of configs) {
    // warm-up + 2/3 timing (median of 3)
    const t23 = [];
    for (let r = 0; r < Number(args.reps ?? 3); r++) {
      const t0 = performance.now();
      fitTLearner(data, twoThirds, cfg, 1 + r, optionsFor(cfg));
      t23.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const model = fitTLearner(data, all, cfg, 1, optionsFor(cfg));
    const fitMs = performance.now() - t0;
    const s = model.predict(data);
    let ss = 0;
    for (const v of s) ss += v * v;
    const csv = join(dir, `scores-${sc}.csv`);
    writeFileSync(csv, 'id,uplift\n' + body.rows.map((r, i) => `${r.id},${s[i]}`).join('\n') + '\n');
    const ev = JSON.parse(execFileSync('node', [join(lab, 'evaluate.mjs'), '--scores', csv, '--truth', truth], { encoding: 'utf8' }));
    t23.sort((a, b) => a - b);
    console.log(
      `${sc.padEnd(13)} ${label(cfg).padEnd(35)} ${String(ev.spearman).padEnd(9)} ${String(ev.gain_share_at_20).padEnd(8)} ` +
        `${Math.sqrt(ss / s.length).toFixed(4).padEnd(8)} ${fitMs.toFixed(0).padEnd(11)} ${t23.length ? t23[t23.length >> 1].toFixed(0) : '-'}`,
    );
  }
}
