#!/usr/bin/env node
// Issue 4 "must show" on lab data, through the code path the API uses: the compiled app (buildApp from
// dist/, after `npm run build`) with a real Piscina pool (--pool workers, default 2), one authenticated
// POST /api/v1/ai/uplift_model per seed via app.inject (schema serialization included), on fresh
// gen.mjs data. One JSON line per seed, then a summary line.
//
// Usage: node bench/trust-lab.mjs --scenario null|persuadables|... [--rows 20000] [--seeds 10] [--base B]
//        [--model auto] [--contamination 0] [--pool 2] [--treat-by-age] [--rand-inline] [--dist DIR]
//   --base         first data seed (default: from the clock, so every run uses fresh seeds); seed s is
//                  also sent as options.seed
//   --treat-by-age after generation, treatment is reassigned: treated with probability 0.85 when
//                  age < 40, else 0.15 (to check the TREATMENT_PREDICTABLE warning)
//   --rand-inline  timing comparison: the pool answers the 'randomization' task with nothing, so the
//                  finish task computes the check itself (the other way of running it)
//   --rand-skip    timing comparison only: the 'randomization' task is answered at once with a dummy
//                  result (auc 0.5, never flagged), i.e. the request without the check's cost
//   --dist DIR     compiled tree to load (default ./dist; e.g. an older commit's build, for timing)
//   --importance-compare  instead of requests: runs the pipeline steps directly and compares, on the same
//                  fits, feature_importance as reported (held-out split gain for forests) with the final
//                  model's in-sample gain (main drivers strictly above every noise_* feature, max noise share)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

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
const base = Number(args.base ?? Date.now() % 1000000);
const model = args.model ?? 'auto';
const contamination = Number(args.contamination ?? 0);
const poolSize = Number(args.pool ?? 2);
const dist = resolve(process.cwd(), args.dist ?? 'dist');
const gen = resolve(process.cwd(), '../shared/lab/gen.mjs');
const load = (p) => import(pathToFileURL(join(dist, p)).href);

if (args['importance-compare']) {
  const { toRawDataset } = await load('src/ml/data/columnar.js');
  const P = await load('src/ml/pipeline.js');
  const dir0 = mkdtempSync(join(tmpdir(), 'trust-lab-'));
  const tally = { insample: { ok: 0, maxNoise: [] }, heldout: { ok: 0, maxNoise: [] } };
  console.log(`importance-compare scenario=${scenario} rows=${rows} seeds=${seeds} base=${base} model=${model} dist=${dist}`);
  for (let s = base; s < base + seeds; s++) {
    const reqFile = join(dir0, 'req.json');
    execFileSync('node', [gen, '--scenario', scenario, '--rows', String(rows), '--seed', String(s), '--format', 'json', '--out', reqFile]);
    const body = JSON.parse(readFileSync(reqFile, 'utf8'));
    const prep = P.prepare(toRawDataset(body.rows), { seed: s, model });
    const preds = prep.grid.map(() => []), imps = prep.grid.map(() => []);
    for (const { configIndex: i, fold: f } of P.cvTaskList(prep)) {
      const r = P.cvFit(prep.data, prep.folds, prep.grid[i], i, f, s);
      preds[i][f] = r.preds;
      imps[i][f] = r.importance;
    }
    const sel = P.select(prep.data, prep.folds, prep.grid, preds, imps);
    const tasks = P.finalTaskList(prep, sel);
    const m = P.assembleFinal(sel, tasks, tasks.map((x) => P.finalFit(prep.data, x.config, s, x.treeRange)));
    const line = { seed: s, chosen: sel.cv[sel.bestIndex].config };
    for (const [name, fi] of [['insample', P.featureImportance(prep.data, m)], ['heldout', P.featureImportance(prep.data, m, sel.memberImportance)]]) {
      const imp = Object.fromEntries(fi.map((f) => [f.feature, f.importance]));
      const maxNoise = Math.max(...fi.filter((f) => /^noise_/.test(f.feature)).map((f) => f.importance));
      const ok = ['age', 'email_opens_90d', 'discount_affinity'].every((x) => imp[x] > maxNoise);
      if (ok) tally[name].ok++;
      tally[name].maxNoise.push(Number(maxNoise.toFixed(4)));
      line[name] = { main_drivers_above_noise: ok, max_noise: Number(maxNoise.toFixed(4)), importance: fi.map((f) => `${f.feature}:${f.importance.toFixed(4)}`).join(' ') };
    }
    console.log(JSON.stringify(line));
  }
  rmSync(dir0, { recursive: true, force: true });
  console.log('summary', JSON.stringify(tally));
  process.exit(0);
}

const { buildApp } = await load('src/app.js');
const { loadConfig } = await load('src/config.js');
const { KeyStore } = await load('src/keys/store.js');
const { createPiscinaRunner, defaultWorkerFile } = await load('src/plugins/pool.js');

const dir = mkdtempSync(join(tmpdir(), 'trust-lab-'));
const store = new KeyStore(join(dir, 'keys.json'), { scrypt: { N: 1024, r: 8, p: 1, keylen: 32 }, reloadIntervalMs: 0 });
const { customer_api_id, secret } = await store.create('trust-lab');
const config = { ...loadConfig({}), poolSize, maxQueue: 4, logLevel: 'info', rateLimitMax: 0 };
// The request log line carries the job's phase timings (src/plugins/jobs.ts JobTimings): keep the last one.
let lastTimings = null;
const logStream = { write(line) { try { const o = JSON.parse(line); if (o.timings) lastTimings = o.timings; } catch { /* not JSON */ } } };
const piscina = createPiscinaRunner({ poolSize, maxQueue: 4, filename: defaultWorkerFile() });
const randAnswer = args['rand-inline'] ? undefined : args['rand-skip'] ? { auc: 0.5, null_se: 0, flagged: false } : null;
const runner = randAnswer !== null
  ? { ...piscina, size: piscina.size, get queueSize() { return piscina.queueSize; },
      run: (task, o) => (task.kind === 'randomization' ? Promise.resolve({ kind: 'randomization', check: randAnswer, ms: 0 }) : piscina.run(task, o)) }
  : piscina;
const app = await buildApp({ config, keyStore: store, runner, logger: { stream: logStream } });
await app.ready();
await app.pool.whenReady;
const headers = { 'x-customer-api-id': customer_api_id, 'x-secret': secret, 'content-type': 'application/json' };

const NOISE = /^noise_/;
// Features that drive the true uplift in gen.mjs's persuadableTau (lowsignal: the same, scaled).
const TAU_DRIVERS = ['age', 'email_opens_90d', 'discount_affinity', 'prior_purchases', 'tenure_days', 'country', 'device'];
const MAIN_DRIVERS = ['age', 'email_opens_90d', 'discount_affinity'];
const UNIFORM = 'targeting by decile is not supported by this data';

const summary = {
  runs: 0, significant: 0, p_below_0001: 0, uniform_sentence: 0, ate_covers: 0, top_clearly_above_bottom: 0,
  observed_rises: 0, flagged: 0, warn_predictable: 0, main_drivers_above_noise: 0, tau_drivers_above_noise: 0,
  business_above_noise: 0, deciles_sum_n: 0, request_ms: [], rand_wait_ms: [], cpu_randomization_ms: [], cpu_finish_ms: [],
};
console.log(`scenario=${scenario} rows=${rows} seeds=${seeds} base=${base} model=${model} contamination=${contamination} pool=${poolSize} dist=${dist}${args['treat-by-age'] ? ' treat-by-age' : ''}${args['rand-inline'] ? ' rand-inline' : ''}${args['rand-skip'] ? ' rand-skip' : ''}`);
try {
  for (let s = 0; s < seeds; s++) {
    const seed = base + s;
    const reqFile = join(dir, 'req.json');
    const truthFile = join(dir, 'truth.csv');
    execFileSync('node', [gen, '--scenario', scenario, '--rows', String(rows), '--seed', String(seed), '--format', 'json',
      '--out', reqFile, '--truth', truthFile, '--contamination', String(contamination)]);
    const body = JSON.parse(readFileSync(reqFile, 'utf8'));
    const truth = readFileSync(truthFile, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    const trueAte = truth.reduce((a, b) => a + b, 0) / truth.length;
    if (args['treat-by-age']) {
      let st = (seed * 2654435761) >>> 0; // own small LCG: the bench is outside src/ml
      const rnd = () => ((st = (Math.imul(st, 1664525) + 1013904223) >>> 0) / 4294967296);
      for (const r of body.rows) r.treatment = rnd() < (Number(r.features.age) < 40 ? 0.85 : 0.15) ? 1 : 0;
    }
    body.options = { ...(body.options ?? {}), model, seed };
    const payload = JSON.stringify(body);
    const t0 = performance.now();
    const res = await app.inject({ method: 'POST', url: '/api/v1/ai/uplift_model', headers, payload });
    const ms = Math.round(performance.now() - t0);
    if (res.statusCode !== 200) throw new Error(`seed ${seed}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`);
    const r = res.json();
    const ev = r.evaluation;
    const d = ev.deciles;
    const top = d[d.length - 1], bottom = d[0];
    const covers = ev.ate.ci95[0] <= trueAte && trueAte <= ev.ate.ci95[1];
    const gap = top.observed_uplift - bottom.observed_uplift;
    const gapSe = Math.hypot(top.observed_uplift_se, bottom.observed_uplift_se);
    const clearly = gap > 2 * gapSe;
    // Spearman-like: rank correlation of decile number and observed uplift (no ties expected).
    const obs = d.map((x) => x.observed_uplift);
    const rank = (a) => { const o = a.map((v, i) => [v, i]).sort((p, q) => p[0] - q[0]); const rk = new Array(a.length); o.forEach(([, i], j) => (rk[i] = j)); return rk; };
    const ro = rank(obs), m = obs.length;
    const rho = 1 - (6 * ro.reduce((acc, v, i) => acc + (v - i) ** 2, 0)) / (m * (m * m - 1));
    const fi = r.feature_importance;
    // strictly above: a driver tied with a noise feature (e.g. both 0) does not count
    const imp = Object.fromEntries(fi.map((f) => [f.feature, f.importance]));
    const maxNoise = Math.max(...fi.filter((f) => NOISE.test(f.feature)).map((f) => f.importance));
    const above = (names) => names.filter((x) => x in imp).every((x) => imp[x] > maxNoise);
    const business = fi.filter((f) => !NOISE.test(f.feature)).map((f) => f.feature);
    const codes = r.warnings.map((w) => w.code);
    const nSum = d.reduce((a, x) => a + x.n_customers, 0);
    summary.runs++;
    summary.request_ms.push(ms);
    const tm = lastTimings ?? {};
    summary.rand_wait_ms.push(tm.rand_wait_ms);
    summary.cpu_randomization_ms.push(tm.cpu_randomization_ms);
    summary.cpu_finish_ms.push(tm.cpu_finish_ms);
    if (ev.heterogeneity.significant) summary.significant++;
    if (ev.heterogeneity.p_value < 0.001) summary.p_below_0001++;
    if (r.interpretation.includes(UNIFORM)) summary.uniform_sentence++;
    if (covers) summary.ate_covers++;
    if (clearly) summary.top_clearly_above_bottom++;
    if (rho > 0.5) summary.observed_rises++;
    if (ev.randomization_check.flagged) summary.flagged++;
    if (codes.includes('TREATMENT_PREDICTABLE')) summary.warn_predictable++;
    if (above(MAIN_DRIVERS)) summary.main_drivers_above_noise++;
    if (above(TAU_DRIVERS)) summary.tau_drivers_above_noise++;
    if (above(business)) summary.business_above_noise++;
    if (nSum === rows) summary.deciles_sum_n++;
    console.log(JSON.stringify({
      seed, chosen: r.model.type, G: r.model.cv.length, p: ev.heterogeneity.p_value, sig: ev.heterogeneity.significant,
      slope: ev.heterogeneity.slope, slope_se: ev.heterogeneity.slope_se, calib_slope: r.model.calibration?.slope,
      ate: ev.ate.estimate, ci: ev.ate.ci95, true_ate: Number(trueAte.toFixed(4)), covers,
      qini: ev.qini_coefficient, obs_by_decile: obs, top_minus_bottom: Number(gap.toFixed(4)), gap_se: Number(gapSe.toFixed(4)),
      rho: Number(rho.toFixed(3)), auc: ev.randomization_check.auc, flagged: ev.randomization_check.flagged, warnings: codes,
      importance: fi.map((f) => `${f.feature}:${f.importance}`).join(' '),
      uniform_sentence: r.interpretation.includes(UNIFORM), request_ms: ms, train_ms: r.model.train_ms,
      timings: tm,
    }));
  }
} finally {
  await app.close();
  await piscina.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
const ms = summary.request_ms.slice().sort((a, b) => a - b);
summary.request_ms = { median: ms[Math.floor(ms.length / 2)], mean: Math.round(ms.reduce((a, b) => a + b, 0) / ms.length), all: summary.request_ms };
// rand_wait_ms: how long finish waited for the randomization task after the final fits (0 = it never
// lengthened the request); cpu_*: the task's time inside a worker.
console.log('summary', JSON.stringify(summary));
