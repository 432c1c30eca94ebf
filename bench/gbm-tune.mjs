#!/usr/bin/env node
// Quick parameter sweep for the T-learner (dist/ build): loads the lab scenarios once, then for each
// candidate in --cands (a JSON array of {label?, config?, options?}) fits on all rows, scores the same
// rows and prints spearman / gain_share_at_20 (same formulas as ../shared/lab/evaluate.mjs) / RMS of
// scores / cpu ms of the fit.
//   node bench/gbm-tune.mjs --cands '[{"config":{"nIter":60},"options":{"base":{"nIter":40},"arm":{"minGain":2}}}]'
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
const cands = JSON.parse(args.cands ?? '[{}]');

const sets = scenarios.map((sc) => {
  const req = join(dir, `${sc}-${rowsN}-${seed}.json`);
  const truthFile = join(dir, `${sc}-${rowsN}-${seed}-truth.csv`);
  if (!existsSync(req) || !existsSync(truthFile)) {
    execFileSync('node', [join(root, '..', 'shared', 'lab', 'gen.mjs'), '--scenario', sc, '--rows', String(rowsN), '--seed', String(seed), '--format', 'json', '--out', req, '--truth', truthFile]);
  }
  const body = JSON.parse(readFileSync(req, 'utf8'));
  const tmap = new Map(readFileSync(truthFile, 'utf8').trim().split('\n').slice(1).map((l) => { const c = l.split(','); return [c[0], Number(c[1])]; }));
  const truth = Float64Array.from(body.rows, (r) => tmap.get(r.id));
  return { sc, data: encode(toRawDataset(body.rows)), truth };
});

function ranks(v) {
  const idx = Array.from(v, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i; while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
function pearson(a, b) {
  let ma = 0, mb = 0; for (let i = 0; i < a.length; i++) { ma += a[i]; mb += b[i]; } ma /= a.length; mb /= a.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}
function gainShare(s, t, k) {
  const m = Math.round((s.length * k) / 100);
  const order = Array.from(s, (_, i) => i).sort((a, b) => s[b] - s[a]);
  const best = Array.from(t).sort((a, b) => b - a);
  let got = 0, opt = 0; for (let i = 0; i < m; i++) { got += t[order[i]]; opt += best[i]; }
  return got / opt;
}
const base0 = TLEARNER_GRID[0];
for (const c of cands) {
  const cfg = { ...base0, ...c.config };
  const d = tlearnerOptions(cfg);
  const opts = { base: c.options?.base === null ? null : { ...(d.base ?? d.arm), ...c.options?.base }, arm: { ...d.arm, ...c.options?.arm } };
  const cells = [];
  let cpuTot = 0;
  for (const { sc, data, truth } of sets) {
    const all = Uint32Array.from({ length: data.n }, (_, i) => i);
    const c0 = process.cpuUsage();
    const model = fitTLearner(data, all, cfg, 1, opts);
    const cu = process.cpuUsage(c0); cpuTot += (cu.user + cu.system) / 1000;
    const s = model.predict(data);
    let ss = 0; for (const v of s) ss += v * v;
    const rms = Math.sqrt(ss / s.length);
    cells.push(sc === 'null' ? `null rms=${rms.toFixed(4)}` : `${sc.slice(0, 5)} ${pearson(ranks(s), ranks(truth)).toFixed(3)}/${gainShare(s, truth, 20).toFixed(3)}`);
  }
  console.log(`${(c.label ?? JSON.stringify(c)).slice(0, 150)}\n   ${cells.join('  ')}  cpu/fit=${(cpuTot / sets.length).toFixed(0)}ms`);
}
