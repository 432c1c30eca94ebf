#!/usr/bin/env node
/**
 * Accuracy and time of the pipeline with the CV training-row cap (src/ml/pipeline.ts CV_MAX_TRAIN_ROWS)
 * against the same pipeline without it, or with the forest grid's CV tree count changed (a proposal):
 *
 *   npm run build && node bench/cv-cap.mjs --rows 400000 --scenarios persuadables,lowsignal [--seed 7]
 *   node bench/cv-cap.mjs --rows 50000 --variants base,cvtrees50
 *
 * Variants: `base` (the compiled dist/ as is), `nocap` (a temporary copy of dist/ with
 * CV_MAX_TRAIN_ROWS = 0), `cvtreesN` (base, with every forest of the CV grid growing N trees; the final
 * forest keeps max(FINAL_MIN_TREES, N) trees). Each run: ../shared/lab/gen.mjs data (cached in
 * bench/out/), the pipeline steps on one thread in this process, scores of all rows (rounded to 4
 * decimals as the API returns them) scored with ../shared/lab/evaluate.mjs against --truth. Prints
 * Spearman, gain share at 20 %, PEHE, RMS of scores, the chosen candidate, and the CV / total time.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluateScores, labCampaign } from './lib/lab.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');

const o = { rows: 400000, scenarios: ['persuadables', 'lowsignal'], seed: 7, variants: ['base', 'nocap'] };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  const v = process.argv[i + 1];
  if (k === 'rows' || k === 'seed') o[k] = Number(v);
  else if (k === 'scenarios' || k === 'variants') o[k] = v.split(',');
  else throw new Error(`unknown argument --${k}`);
}

mkdirSync(OUT, { recursive: true });
let tmp = null;
function distFor(variant) {
  if (variant !== 'nocap') return path.join(ROOT, 'dist');
  if (!tmp) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'uplift-nocap-'));
    cpSync(path.join(ROOT, 'dist'), path.join(tmp, 'dist'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
    cpSync(path.join(ROOT, 'package.json'), path.join(tmp, 'package.json'));
    const f = path.join(tmp, 'dist/src/ml/pipeline.js');
    const src = readFileSync(f, 'utf8');
    const patched = src.replace(/export const CV_MAX_TRAIN_ROWS = [0-9_]+;/, 'export const CV_MAX_TRAIN_ROWS = 0;');
    if (patched === src) throw new Error('CV_MAX_TRAIN_ROWS not found in dist/src/ml/pipeline.js');
    writeFileSync(f, patched);
  }
  return path.join(tmp, 'dist');
}

const rows = [];
try {
  for (const scenario of o.scenarios) {
    const req = path.join(OUT, `${scenario}-${o.rows}-s${o.seed}-truth.json`);
    const truth = path.join(OUT, `${scenario}-${o.rows}-s${o.seed}.truth.csv`);
    const { body } = labCampaign({ scenario, rows: o.rows, seed: o.seed, req, truth });
    for (const variant of o.variants) {
      const dist = distFor(variant);
      const { toRawDataset } = await import(pathToFileURL(path.join(dist, 'src/ml/data/columnar.js')).href);
      const P = await import(pathToFileURL(path.join(dist, 'src/ml/pipeline.js')).href);
      const t0 = performance.now();
      const prep = P.prepare(toRawDataset(body.rows), { contamination: body.contamination ?? 0 });
      const m = /^cvtrees(\d+)$/.exec(variant);
      if (m) prep.grid = prep.grid.map((c) => (c.family === 'uplift_rf' ? { ...c, nTrees: Number(m[1]) } : c));
      const { data, folds, grid, options } = prep;
      const preds = grid.map(() => []);
      const imps = grid.map(() => []);
      const tc = performance.now();
      for (const t of P.cvTaskList(prep)) {
        const f = P.cvFit(data, folds, grid[t.configIndex], t.configIndex, t.fold, options.seed);
        preds[t.configIndex][t.fold] = f.preds;
        imps[t.configIndex][t.fold] = f.importance;
      }
      const cvMs = performance.now() - tc;
      const sel = P.select(data, folds, grid, preds, imps);
      const tasks = P.finalTaskList(prep, sel);
      const model = P.assembleFinal(sel, tasks, tasks.map((t) => P.finalFit(data, t.config, options.seed, t.treeRange)));
      const r = P.finish(prep, sel, model, 0, P.randomization(prep));
      const ms = performance.now() - t0;
      const csv = path.join(OUT, `cv-cap-scores-${variant}-${scenario}-${o.rows}.csv`);
      const ev = evaluateScores({ ids: body.rows.map((x) => x.id), scores: r.scores, truth, csv });
      let rms = 0;
      for (const s of r.scores) rms += s * s;
      rms = Math.sqrt(rms / r.scores.length);
      const line = { scenario, variant, spearman: ev.spearman, gain20: ev.gain_share_at_20, pehe: ev.pehe, rms: +rms.toFixed(4), cv_s: +(cvMs / 1000).toFixed(1), total_s: +(ms / 1000).toFixed(1), chosen: r.model.cv[r.chosen].config };
      rows.push(line);
      console.log(JSON.stringify(line));
    }
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n# ${o.rows} rows, lab seed ${o.seed}, loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const r of rows) console.log(`${r.scenario.padEnd(13)} ${r.variant.padEnd(10)} spearman ${r.spearman}  gain@20 ${r.gain20}  pehe ${r.pehe}  rms ${r.rms}  cv ${r.cv_s} s  total ${r.total_s} s  ${r.chosen}`);
