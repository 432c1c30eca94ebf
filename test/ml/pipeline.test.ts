import t from 'tap';
import {
  runPipeline, prepare, cvTask, select, finalFit, finish, mergeModelParts, combineMembers, resolveOptions, DEFAULT_SEED,
  cvTaskList, finalTaskList, assembleFinal, finalConfig,
} from '../../src/ml/pipeline.js';
import type { FittedModel } from '../../src/ml/types.js';
import { gridFor, describeConfig } from '../../src/ml/models.js';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { foldRows } from '../../src/ml/eval/folds.js';
import { qiniAucScoreOfRows } from '../../src/ml/eval/qini.js';
import { createRng } from '../../src/ml/rng.js';

/** Small campaign: uplift 0.3 * [x1 > 0.5] + 0.15 * [level "a"]; base rate 0.2. */
function campaign(n: number, seed: number) {
  const rng = createRng(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const x1 = rng.next();
    const lvl = ['a', 'b', 'c'][rng.int(3)];
    const tr = rng.next() < 0.5 ? 1 : 0;
    const tau = (x1 > 0.5 ? 0.3 : 0) + (lvl === 'a' ? 0.15 : 0);
    const y = rng.next() < 0.2 + tr * tau ? 1 : 0;
    rows.push({ treatment: tr, outcome: y, features: { x1, lvl, noise: rng.next(), miss: rng.next() < 0.3 ? null : rng.int(5) } });
  }
  return rows;
}

t.test('grids per model choice', async (t) => {
  const auto = gridFor('auto');
  t.ok(auto.filter((c) => c.family === 'uplift_rf').length >= 4, '>= 4 forest configs');
  t.ok(auto.filter((c) => c.family === 't_learner').length >= 2, '>= 2 T-learner configs');
  t.ok(gridFor('uplift_rf').every((c) => c.family === 'uplift_rf'));
  t.ok(gridFor('t_learner').every((c) => c.family === 't_learner'));
  t.equal(gridFor('uplift_rf').length + gridFor('t_learner').length, auto.length);
  t.equal(new Set(auto.map(describeConfig)).size, auto.length, 'labels are distinct');
  t.same(resolveOptions({}), { model: 'auto', seed: DEFAULT_SEED, contamination: 0 });
  t.throws(() => resolveOptions({ seed: 1.5 }));
  t.throws(() => resolveOptions({ contamination: 1 }));
});

t.test('select: highest mean fold Qini wins, ties -> lower index, oof from the winner', async (t) => {
  const raw = toRawDataset(campaign(600, 1));
  const { data, folds } = prepare(raw, { seed: 3 });
  const tests = [0, 1, 2].map((f) => foldRows(folds, f).test);
  const rng = createRng(8);
  const perfect = (r: number) => data.outcome[r] * (data.treatment[r] === 1 ? 1 : -1);
  const grid = gridFor('auto').slice(0, 4);
  const preds = [
    tests.map((rows) => Float64Array.from(rows, () => rng.next())),
    tests.map((rows) => Float64Array.from(rows, (r) => perfect(r) + 0.01 * rng.next())),
    tests.map((rows) => Float64Array.from(rows, (r) => perfect(r))),
    tests.map((rows) => Float64Array.from(rows, (r) => perfect(r))),
  ];
  const sel = select(data, folds, grid, preds);
  const q = preds.map((p) => tests.map((rows, f) => qiniAucScoreOfRows(data.outcome, data.treatment, rows, p[f])));
  const means = q.map((v) => v.reduce((a, b) => a + b, 0) / 3);
  t.same(sel.cv.map((c) => c.fold_qini), q);
  t.same(sel.cv.map((c) => c.mean_qini), means);
  t.ok(means[2] === means[3] && means[2] >= means[1] && means[1] > means[0], `means ${means}`);
  t.equal(sel.bestIndex, 2, 'tie between 2 and 3 goes to 2');
  for (let f = 0; f < 3; f++) tests[f].forEach((r, j) => { if (sel.oof[r] !== preds[2][f][j]) t.fail(`oof row ${r}`); });
  t.throws(() => select(data, folds, grid, preds.slice(0, 3)));
  t.equal(sel.cv.length, 4, 'forest-only grid: no blend candidate');
  t.same(sel.members, [2]);
});

t.test('select: the blend of the best forest and the best T-learner', async (t) => {
  const raw = toRawDataset(campaign(900, 6));
  const { data, folds } = prepare(raw, { seed: 4 });
  const tests = [0, 1, 2].map((f) => foldRows(folds, f).test);
  const auto = gridFor('auto');
  const fi = auto.findIndex((c) => c.family === 'uplift_rf');
  const ti = auto.findIndex((c) => c.family === 't_learner');
  const grid = [auto[fi], auto[fi], auto[ti], auto[ti]];
  const rng = createRng(10);
  const truth = (r: number) => data.outcome[r] * (data.treatment[r] === 1 ? 1 : -1);
  // two noisy views of the same signal with independent noise: their mean is the better ranking
  const noisy = (w: number) => tests.map((rows) => Float64Array.from(rows, (r) => truth(r) + w * (rng.next() - 0.5)));
  const preds = [noisy(6), noisy(3), noisy(6), noisy(3)];
  const sel = select(data, folds, grid, preds);
  t.equal(sel.cv.length, 5, 'grid + blend');
  t.match(sel.cv[4].config, /^blend mean\(uplift_rf .* \| t_learner .*\)$/);
  const means = sel.cv.map((c) => c.mean_qini);
  // best of each family: the less noisy ones (1 and 3), if their Qini is higher
  const bf = means[1] > means[0] ? 1 : 0;
  const bt = means[3] > means[2] ? 3 : 2;
  const blend = tests.map((rows, f) => Float64Array.from(rows, (_, j) => (preds[bf][f][j] + preds[bt][f][j]) / 2));
  const q = tests.map((rows, f) => qiniAucScoreOfRows(data.outcome, data.treatment, rows, blend[f]));
  t.same(sel.cv[4].fold_qini, q);
  const best = means.indexOf(Math.max(...means));
  t.equal(sel.bestIndex, best);
  t.ok(best === 4, `blend wins here: ${means.map((m) => m.toFixed(4))}`);
  t.same(sel.members, [bf, bt]);
  tests.forEach((rows, f) => rows.forEach((r, j) => { if (sel.oof[r] !== blend[f][j]) t.fail(`oof ${r}`); }));
});

t.test('runPipeline: result contract, determinism, distribution-independence', async (t) => {
  const raw = toRawDataset(campaign(2400, 2));
  const a = runPipeline(raw, { seed: 11 });
  const b = runPipeline(raw, { seed: 11 });
  t.same(Buffer.from(a.scores.buffer), Buffer.from(b.scores.buffer), 'same seed -> identical scores');
  t.same(a.deciles, b.deciles);
  t.same(a.oof, b.oof);
  t.equal(a.n, 2400);
  t.equal(a.scores.length, 2400);
  t.ok(a.scores.every((v) => v >= -1 && v <= 1));
  t.equal(a.decile_summary.reduce((s, r) => s + r.n_customers, 0), 2400);
  t.equal(a.model.cv.length, gridFor('auto').length + 1, 'grid + blend');
  t.equal(a.model.seed, 11);
  const best = a.model.cv.reduce((x, y) => (y.mean_qini > x.mean_qini ? y : x));
  t.match(best.config, a.model.type);
  const imp = a.feature_importance;
  t.ok(Math.abs(imp.reduce((s, r) => s + r.importance, 0) - 1) < 1e-9, 'importance sums to 1');
  t.ok(imp.every((r, k) => k === 0 || r.importance <= imp[k - 1].importance), 'descending');
  t.ok(['x1', 'lvl'].includes(imp[0].feature), `top feature ${imp[0].feature}`);
  t.match(a.interpretation, /^Treatment group converted at \d+\.\d\d% vs control \d+\.\d\d% \(ATE [+-]\d\.\d{3}, 95% CI [+-]\d\.\d{3} to [+-]\d\.\d{3}\)\./);
  t.ok(a.calibration.test.significant, 'real heterogeneity is detected out of fold');
  t.notMatch(a.interpretation, /uniform/);

  // The same steps distributed differently: CV tasks in reverse order, the final forest in two tree ranges.
  const prep = prepare(raw, { seed: 11 });
  const preds: Float64Array[][] = prep.grid.map(() => []);
  for (let i = prep.grid.length - 1; i >= 0; i--)
    for (let f = 2; f >= 0; f--) preds[i][f] = cvTask(prep.data, prep.folds, prep.grid[i], i, f, 11);
  const sel = select(prep.data, prep.folds, prep.grid, preds);
  // members fitted in reverse order, each forest in two tree ranges
  const fitted = new Map<number, FittedModel>();
  for (const m of [...sel.members].reverse()) {
    const config = finalConfig(prep, m);
    if (config.family === 'uplift_rf') {
      const cut = Math.floor(config.nTrees / 3);
      fitted.set(m, mergeModelParts([finalFit(prep.data, config, 11, [0, cut]), finalFit(prep.data, config, 11, [cut, config.nTrees])]));
    } else fitted.set(m, finalFit(prep.data, config, 11));
  }
  const model = combineMembers(sel.members.map((m) => fitted.get(m) as FittedModel));
  const c = finish(prep, sel, model, 0);
  t.same(Buffer.from(c.scores.buffer), Buffer.from(a.scores.buffer), 'stepwise == runPipeline, byte for byte');
  t.same(c.oof, a.oof);

  // Through the task lists: CV tasks in a shuffled order, the final forest(s) in 3 tree ranges.
  const tasks = cvTaskList(prep);
  t.equal(tasks.length, prep.grid.length * 3);
  const order = tasks.map((_, j) => j);
  const rng = createRng(123);
  for (let j = order.length - 1; j > 0; j--) { const r = rng.int(j + 1); [order[j], order[r]] = [order[r], order[j]]; }
  const preds2: Float64Array[][] = prep.grid.map(() => []);
  for (const j of order) {
    const { configIndex, fold } = tasks[j];
    preds2[configIndex][fold] = cvTask(prep.data, prep.folds, prep.grid[configIndex], configIndex, fold, 11);
  }
  const sel2 = select(prep.data, prep.folds, prep.grid, preds2);
  const ftasks = finalTaskList(prep, sel2, 3);
  const forestMembers = sel2.members.filter((m) => prep.grid[m].family === 'uplift_rf').length;
  t.equal(ftasks.length, sel2.members.length + 2 * forestMembers, 'forests split in 3 parts');
  const fmodels: FittedModel[] = new Array(ftasks.length);
  for (let j = ftasks.length - 1; j >= 0; j--) fmodels[j] = finalFit(prep.data, ftasks[j].config, 11, ftasks[j].treeRange);
  const c2 = finish(prep, sel2, assembleFinal(sel2, ftasks, fmodels), 0);
  t.same(Buffer.from(c2.scores.buffer), Buffer.from(a.scores.buffer), 'task lists == runPipeline, byte for byte');
  t.throws(() => assembleFinal(sel2, ftasks, fmodels.slice(1)));
  // a forest member split in 4 ranges, assembled == one-shot fit
  const forestSel = { ...sel2, members: [0] };
  t.equal(prep.grid[0].family, 'uplift_rf');
  const ft = finalTaskList(prep, forestSel, 4);
  t.equal(ft.length, 4);
  const fc = finalConfig(prep, 0);
  t.equal((fc as { nTrees: number }).nTrees, Math.max(150, (prep.grid[0] as { nTrees: number }).nTrees), 'final forest: at least 150 trees');
  const one = finalFit(prep.data, fc, 11).predict(prep.data);
  const parts = assembleFinal(forestSel, ft, ft.map((x) => finalFit(prep.data, x.config, 11, x.treeRange))).predict(prep.data);
  t.same(Buffer.from(parts.buffer), Buffer.from(one.buffer), 'forest in 4 tree ranges == one-shot');
  // an unsplit forest task carries the full final range, so fitting the grid config with it is the same
  const whole = finalTaskList(prep, forestSel, 1);
  t.same(whole.map((x) => x.treeRange), [[0, (fc as { nTrees: number }).nTrees]]);
  const viaGrid = finalFit(prep.data, prep.grid[0], 11, whole[0].treeRange).predict(prep.data);
  t.same(Buffer.from(viaGrid.buffer), Buffer.from(one.buffer), 'grid config + task range == final config');

  const d = runPipeline(raw, { seed: 12 });
  // (a T-learner without subsampling has no randomness of its own, but the folds change with the seed)
  t.not(Buffer.compare(Buffer.from(d.folds.buffer), Buffer.from(a.folds.buffer)), 0, 'another seed -> other folds');
  t.not(Buffer.compare(Buffer.from(d.oof.buffer), Buffer.from(a.oof.buffer)), 0, 'another seed -> other oof');

  // Contamination divides scores by (1 - c) (clipped) and leaves the ranking alone.
  const e = runPipeline(raw, { seed: 11, contamination: 0.5 });
  for (let i = 0; i < 2400; i++) {
    if (Math.abs(e.scores[i] - Math.max(-1, Math.min(1, a.scores[i] * 2))) > 1e-12) { t.fail(`row ${i}`); break; }
  }
  t.ok(Math.abs(e.average_treatment_effect - 2 * a.average_treatment_effect) < 1e-12);
});

t.test('oof predictions are the chosen configuration\'s CV predictions', async (t) => {
  const raw = toRawDataset(campaign(900, 4));
  const res = runPipeline(raw, { seed: 5, model: 't_learner' });
  const prep = prepare(raw, { seed: 5, model: 't_learner' });
  t.same(res.folds, prep.folds);
  t.equal(res.model.type, 't_learner');
  t.equal(res.model.criterion, null);
  const best = res.model.cv.findIndex((c) => c.mean_qini === Math.max(...res.model.cv.map((x) => x.mean_qini)));
  t.equal(res.chosen, best);
  for (let f = 0; f < 3; f++) {
    const p = cvTask(prep.data, prep.folds, prep.grid[best], best, f, 5);
    const rows = foldRows(prep.folds, f).test;
    rows.forEach((r, j) => { if (res.oof[r] !== p[j]) t.fail(`row ${r}`); });
  }
  t.pass('checked');
  // Calibration: score = (cr_t - cr_c) + b (raw - mean raw), b = BLP slope - 1.645 se, clipped to [0.05, 1].
  const rawPred = finalFit(prep.data, prep.grid[best], 5).predict(prep.data);
  const mean = rawPred.reduce((a, b) => a + b, 0) / rawPred.length;
  const cal = res.calibration;
  t.ok(cal.applied);
  const lcb = cal.test.slope === null || !cal.test.significant ? 0.05 : cal.test.slope - 1.6448536269514722 * (cal.test.slope_se as number);
  t.equal(cal.slope, Math.min(1, Math.max(0.05, lcb)));
  t.ok(Math.abs(cal.center - (res.treatment_cr - res.control_cr)) < 1e-12);
  for (let i = 0; i < rawPred.length; i++) {
    const v = Math.max(-1, Math.min(1, cal.center + cal.slope * (rawPred[i] - mean)));
    if (Math.abs(res.scores[i] - v) > 1e-12) { t.fail(`calibrated score ${i}`); break; }
  }
  const off = runPipeline(raw, { seed: 5, model: 't_learner', calibrate: false });
  t.notOk(off.calibration.applied);
  for (let i = 0; i < rawPred.length; i++) {
    if (off.scores[i] !== Math.max(-1, Math.min(1, rawPred[i]))) { t.fail(`uncalibrated score ${i}`); break; }
  }
  const rf = runPipeline(raw, { seed: 5, model: 'uplift_rf' });
  t.equal(rf.model.type, 'uplift_rf');
  t.ok(rf.model.cv.every((c) => c.config.startsWith('uplift_rf')));
});

t.test('no effect at all: calibration shrinks the scores toward the ATE', async (t) => {
  const rows = campaign(3000, 12);
  // redraw the outcomes without any effect
  const rng = createRng(77);
  for (const r of rows) r.outcome = rng.next() < 0.25 ? 1 : 0;
  const on = runPipeline(toRawDataset(rows), { seed: 3 });
  const off = runPipeline(toRawDataset(rows), { seed: 3, calibrate: false });
  const rms = (v: Float64Array) => Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
  t.ok(on.calibration.slope <= 1, `slope ${on.calibration.slope} (BLP ${on.calibration.test.slope}, p ${on.calibration.test.p_value})`);
  const spread = (v: Float64Array) => { const m = v.reduce((a, b) => a + b, 0) / v.length; return rms(v.map((x) => x - m)); };
  // The calibrated scores are center + slope * (raw - mean raw): their spread is slope times the raw spread
  // (their level moves to the observed difference, so the rms about 0 is not comparable).
  t.ok(spread(on.scores) <= spread(off.scores) + 1e-12, `spread ${spread(on.scores)} vs ${spread(off.scores)}`);
  t.ok(Math.abs(spread(on.scores) - on.calibration.slope * spread(off.scores)) < 1e-9, 'spread = slope x raw spread');
  if (!on.calibration.test.significant) {
    t.ok(spread(on.scores) < 0.5 * spread(off.scores), `spread ${spread(on.scores)} vs ${spread(off.scores)}`);
    t.match(on.interpretation, /targeting by decile is not supported/);
  }
  // ranking unchanged
  const oa = [...on.scores.keys()].sort((a, b) => off.scores[a] - off.scores[b] || a - b);
  for (let k = 1; k < oa.length; k++) if (on.scores[oa[k]] < on.scores[oa[k - 1]]) { t.fail('ranking changed'); break; }
  t.pass('ranking kept');
});

t.test('no usable features: still a result', async (t) => {
  const rows = campaign(300, 9).map((r) => ({ ...r, features: { k: 1 } }));
  const res = runPipeline(toRawDataset(rows), { seed: 1 });
  t.equal(res.report.droppedConstant.length, 1);
  t.equal(res.feature_importance.length, 0);
  t.equal(res.scores.length, 300);
  t.ok(res.scores.every((v) => Number.isFinite(v)));
});
