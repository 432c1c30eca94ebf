#!/usr/bin/env node
// Issue 4 "must show" on lab data: runs the compiled pipeline (dist/, after `npm run build`) and
// buildEvaluation on fresh gen.mjs data, one line per seed.
// Usage: node bench/trust-lab.mjs --scenario null|persuadables|... [--rows 20000] [--seeds 10] [--base 1000]
//        [--model auto] [--contamination 0] [--treat-by-age]   (the last: generated data, then treatment
//        reassigned 85 % / 15 % by age < 40, to check the randomization warning)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { toRawDataset } from '../dist/src/ml/data/columnar.js';
import { runPipeline } from '../dist/src/ml/pipeline.js';
import { buildEvaluation } from '../dist/src/ml/eval/trust.js';
import { encode } from '../dist/src/ml/data/encode.js';
import { createRng } from '../dist/src/ml/rng.js';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) args[k] = true;
  else { args[k] = v; i++; }
}
const scenario = args.scenario ?? 'null';
const rows = Number(args.rows ?? 20000);
const seeds = Number(args.seeds ?? 10);
const base = Number(args.base ?? Date.now() % 100000);
const model = args.model ?? 'auto';
const contamination = Number(args.contamination ?? 0);
const gen = resolve(process.cwd(), '../shared/lab/gen.mjs');
const dir = mkdtempSync(join(tmpdir(), 'trust-lab-'));
const summary = { significant: 0, p_below_0001: 0, ate_covers: 0, top_above_bottom: 0, flagged: 0, runs: 0 };
console.log(`scenario=${scenario} rows=${rows} seeds=${seeds} base=${base} model=${model} contamination=${contamination}`);
try {
  for (let s = 0; s < seeds; s++) {
    const seed = base + s;
    const req = join(dir, 'req.json');
    const truthFile = join(dir, 'truth.csv');
    execFileSync('node', [gen, '--scenario', scenario, '--rows', String(rows), '--seed', String(seed), '--format', 'json',
      '--out', req, '--truth', truthFile, '--contamination', String(contamination)]);
    const body = JSON.parse(readFileSync(req, 'utf8'));
    const truth = readFileSync(truthFile, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    const trueAte = truth.reduce((a, b) => a + b, 0) / truth.length;
    if (args['treat-by-age']) {
      const rng = createRng(seed);
      for (const r of body.rows) r.treatment = rng.next() < (Number(r.features.age) < 40 ? 0.85 : 0.15) ? 1 : 0;
    }
    const raw = toRawDataset(body.rows);
    const t0 = performance.now();
    const res = runPipeline(raw, { model, seed, contamination });
    const data = encode(raw); // same encoding as the pipeline's prepare() (deterministic)
    const t1 = performance.now();
    const { evaluation: ev, warnings } = buildEvaluation({
      t: data.treatment, y: data.outcome, oof: res.oof, folds: res.folds, data, contamination, seed,
      report: res.report, candidates: res.model.cv.length,
    });
    const t2 = performance.now();
    const d = ev.deciles;
    const top = d[d.length - 1], bottom = d[0];
    const covers = ev.ate.ci95[0] <= trueAte && trueAte <= ev.ate.ci95[1];
    summary.runs++;
    if (ev.heterogeneity.significant) summary.significant++;
    if (ev.heterogeneity.p_value < 0.001) summary.p_below_0001++;
    if (covers) summary.ate_covers++;
    if (top.observed_uplift > bottom.observed_uplift) summary.top_above_bottom++;
    if (ev.randomization_check.flagged) summary.flagged++;
    console.log(JSON.stringify({
      seed, chosen: res.model.type, p: ev.heterogeneity.p_value, fold_p: ev.heterogeneity.fold_p_values, G: res.model.cv.length, slope: ev.heterogeneity.slope, slope_se: ev.heterogeneity.slope_se,
      sig: ev.heterogeneity.significant, ate: ev.ate.estimate, ci: ev.ate.ci95, true_ate: Number(trueAte.toFixed(4)), covers,
      qini: ev.qini_coefficient, obs_bottom: bottom.observed_uplift, obs_top: top.observed_uplift,
      obs_by_decile: d.map((x) => x.observed_uplift),
      auc: ev.randomization_check.auc, flagged: ev.randomization_check.flagged, warnings: warnings.map((w) => w.code),
      pipeline_ms: Math.round(t1 - t0) /* includes one extra encode */, evaluation_ms: Math.round(t2 - t1),
    }));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('summary', JSON.stringify(summary));
