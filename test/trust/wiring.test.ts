import t from 'tap';
import {
  cvFit,
  cvTask,
  cvTaskList,
  cvTaskSeed,
  IMPORTANCE_MAX_TREES,
  featureImportance,
  finish,
  prepare,
  randomization,
  runPipeline,
  select,
  assembleFinal,
  finalFit,
  finalTaskList,
} from '../../src/ml/pipeline.js';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { heldOutSplitImportance, normalizeImportance } from '../../src/ml/eval/importance.js';
import { crossFitHeterogeneityTest } from '../../src/ml/eval/stats.js';
import { foldRows } from '../../src/ml/eval/folds.js';
import { fitModel } from '../../src/ml/models.js';
import { UpliftForest } from '../../src/ml/forest/forest.js';
import { createRng } from '../../src/ml/rng.js';

/** Uplift 0.3 * [x1 > 0.5]; base 0.2; `tByX`: treatment mostly when x1 < 0.4 (not randomized). */
function campaign(n: number, seed: number, opts: { effect?: boolean; tByX?: boolean } = {}) {
  const rng = createRng(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const x1 = rng.next();
    const tr = rng.next() < (opts.tByX ? (x1 < 0.4 ? 0.85 : 0.15) : 0.5) ? 1 : 0;
    const tau = opts.effect === false ? 0 : x1 > 0.5 ? 0.3 : 0;
    rows.push({
      treatment: tr,
      outcome: rng.next() < 0.2 + tr * tau ? 1 : 0,
      features: { x1, lvl: ['a', 'b', 'c'][rng.int(3)], noise: rng.next(), k: 1 },
    });
  }
  return rows;
}

t.test('runPipeline carries evaluation, warnings and model.calibration, all consistent', async (t) => {
  const raw = toRawDataset(campaign(2400, 3));
  const r = runPipeline(raw, { seed: 5, model: 'uplift_rf' });
  const ev = r.evaluation;
  t.equal(ev.deciles.reduce((s, d) => s + d.n_customers, 0), 2400, 'evaluation deciles cover every row');
  t.ok(ev.deciles.every((d) => d.n_treated + d.n_control === d.n_customers), 'treated + control = customers');
  t.equal(ev.qini_curve.length, 21, 'a point every 5 %');
  t.ok(Math.abs(ev.ate.estimate - r.average_treatment_effect) < 1e-4, 'ATE = the SPEC field');
  t.ok(ev.ate.ci95[0] < ev.ate.estimate && ev.ate.estimate < ev.ate.ci95[1]);
  // one test behind calibration, evaluation, warning and interpretation
  const het = crossFitHeterogeneityTest(raw.treatment, raw.outcome, r.oof, r.folds, r.model.cv.length);
  t.equal(ev.heterogeneity.significant, het.significant);
  t.equal(ev.heterogeneity.significant, r.calibration.test.significant);
  // p-value: Bonferroni over every candidate's out-of-fold scores, never above the chosen one's own
  const G = r.model.cv.length;
  const cand = r.calibration.test.candidate_p_values ?? [];
  t.equal(cand.length, G, 'one p-value per candidate');
  t.ok(cand.some((p) => Math.abs(p * G - het.p_value) <= 1e-12 * G), 'the chosen candidate is among them');
  const global = Math.min(1, G * Math.min(...cand));
  t.ok(Math.abs(r.calibration.test.p_value - global) <= 1e-15, 'G x the smallest');
  t.ok(r.calibration.test.p_value <= het.p_value, 'never above the chosen candidate\'s adjusted p-value');
  t.ok(Math.abs(ev.heterogeneity.p_value - global) <= 1e-3 * global + 1e-300, `p ${ev.heterogeneity.p_value} vs ${global} (4 significant digits)`);
  t.equal(ev.heterogeneity.candidate_p_values?.length, G);
  t.ok(ev.heterogeneity.significant, 'real heterogeneity found');
  t.notOk(r.warnings.some((w) => w.code === 'NO_HETEROGENEITY'));
  t.notMatch(r.interpretation, /not supported/);
  t.ok(r.warnings.some((w) => w.code === 'CONSTANT_FEATURES' && w.message.includes('k')), 'constant feature k reported');
  t.notOk(ev.randomization_check.flagged, `randomized: auc ${ev.randomization_check.auc}`);
  t.same(r.model.calibration, { applied: true, slope: r.calibration.slope, center: r.calibration.center, method: r.model.calibration?.method });
  t.ok(r.model.calibration!.slope >= 0.05 && r.model.calibration!.slope <= 1);
  // the top out-of-fold decile really did better than the bottom one
  t.ok(ev.deciles[ev.deciles.length - 1].observed_uplift! > ev.deciles[0].observed_uplift!, 'top decile above bottom, out of fold');
  // importance: the real driver first
  t.equal(r.feature_importance[0].feature, 'x1');
});

t.test('no effect: not significant, NO_HETEROGENEITY, the interpretation says uniform and quotes the interval', async (t) => {
  const r = runPipeline(toRawDataset(campaign(2400, 4, { effect: false })), { seed: 2 });
  t.notOk(r.evaluation.heterogeneity.significant, `p ${r.evaluation.heterogeneity.p_value}`);
  t.ok(r.warnings.some((w) => w.code === 'NO_HETEROGENEITY'));
  t.match(r.interpretation, /targeting by decile is not supported by this data/);
  const [lo, hi] = r.evaluation.ate.ci95;
  const s = (x: number) => (x < 0 ? '-' : '+') + Math.abs(x).toFixed(3);
  t.ok(r.interpretation.includes(`95% CI ${s(lo)} to ${s(hi)}`) || /95% CI [+-]\d\.\d{3} to [+-]\d\.\d{3}/.test(r.interpretation), 'ATE interval quoted');
  t.equal(r.model.calibration?.slope, 0.05, 'no evidence: minimum slope');
});

t.test('treatment assigned by a feature: TREATMENT_PREDICTABLE', async (t) => {
  const r = runPipeline(toRawDataset(campaign(2400, 6, { tByX: true })), { seed: 2, model: 't_learner' });
  t.ok(r.evaluation.randomization_check.flagged, `auc ${r.evaluation.randomization_check.auc}`);
  t.ok(r.warnings.some((w) => w.code === 'TREATMENT_PREDICTABLE'));
});

t.test('the randomization step on its own gives the same result as inside finish', async (t) => {
  const raw = toRawDataset(campaign(1500, 7));
  const prep = prepare(raw, { seed: 9, model: 'uplift_rf' });
  const preds: Float64Array[][] = prep.grid.map(() => []);
  const imps: (Float64Array | null)[][] = prep.grid.map(() => []);
  for (const { configIndex: i, fold: f } of cvTaskList(prep)) {
    const fit = cvFit(prep.data, prep.folds, prep.grid[i], i, f, 9);
    t.same(fit.preds, cvTask(prep.data, prep.folds, prep.grid[i], i, f, 9), 'cvFit predictions = cvTask predictions');
    preds[i][f] = fit.preds;
    imps[i][f] = fit.importance;
  }
  const sel = select(prep.data, prep.folds, prep.grid, preds, imps);
  const tasks = finalTaskList(prep, sel);
  const model = assembleFinal(sel, tasks, tasks.map((x) => finalFit(prep.data, x.config, 9, x.treeRange)));
  const a = finish(prep, sel, model, 0, randomization(prep));
  const b = finish(prep, sel, model, 0);
  t.same(a.evaluation, b.evaluation);
  t.same(a.warnings, b.warnings);
  const ref = runPipeline(raw, { seed: 9, model: 'uplift_rf' });
  t.same(a.evaluation, ref.evaluation, 'stepwise = runPipeline');
  t.same(a.feature_importance, ref.feature_importance);

  // The chosen forest's importance = its CV fits' held-out split importance, summed and normalised.
  const m = sel.members[0];
  const sum = new Float64Array(prep.data.features.length);
  for (let f = 0; f < 3; f++) {
    const { train, test } = foldRows(prep.folds, f);
    const fit = fitModel(prep.data, train, prep.grid[m], cvTaskSeed(9, m, f));
    t.ok(fit instanceof UpliftForest);
    // the first IMPORTANCE_MAX_TREES trees' splits, all held-out rows (1500 rows: under the row cap)
    heldOutSplitImportance((fit as UpliftForest).treeList.slice(0, IMPORTANCE_MAX_TREES), prep.data, test, fit.predict(prep.data, test), sum);
  }
  const norm = normalizeImportance(sum);
  const byName = new Map(a.feature_importance.map((x) => [x.feature, x.importance]));
  t.ok(prep.data.features.every((f, j) => Math.abs((byName.get(f.name) ?? -1) - norm[j]) < 1e-12), 'held-out importance of the CV fits');
  // without CV importances (e.g. an older caller), the final model's own gain importance is used
  const plain = featureImportance(prep.data, model);
  const own = normalizeImportance(model.importance());
  t.ok(plain.every((x) => Math.abs(x.importance - own[prep.data.features.findIndex((f) => f.name === x.feature)]) < 1e-12), 'fallback: model gain');
});
