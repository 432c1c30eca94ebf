import t from 'tap';
import { loadLab } from '../lab.js';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { encode } from '../../src/ml/data/encode.js';
import { stratifiedFolds } from '../../src/ml/eval/folds.js';
import { buildEvaluation, buildWarnings, randomizationCheck } from '../../src/ml/eval/trust.js';
import { createRng } from '../../src/ml/rng.js';
import type { BinnedDataset } from '../../src/ml/types.js';

/** A small campaign: age, a categorical, two noise columns; treatment chosen by `assign(age)`. */
function campaign(seed: number, n: number, assign: (age: number, u: number) => number): BinnedDataset {
  const rng = createRng(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const age = 18 + rng.int(63);
    const tr = assign(age, rng.next());
    const p = 0.2 + (tr ? (age < 40 ? 0.15 : 0) : 0);
    rows.push({
      treatment: tr,
      outcome: rng.next() < p ? 1 : 0,
      features: { age, plan: ['a', 'b', 'c'][rng.int(3)], noise1: rng.next(), noise2: rng.int(10) },
    });
  }
  return encode(toRawDataset(rows));
}

t.test('randomizationCheck never fires on randomized data', async (tt) => {
  for (const seed of [1, 2, 3]) {
    const data = campaign(seed, 3000, (_age, u) => (u < 0.5 ? 1 : 0));
    const folds = stratifiedFolds(data.treatment, data.outcome, seed);
    const r = randomizationCheck(data, folds, seed);
    tt.equal(r.flagged, false, `seed ${seed}: auc ${r.auc}, null se ${r.null_se}`);
    tt.ok(Math.abs(r.auc - 0.5) < 4 * r.null_se + 0.01, `auc ${r.auc} near 0.5`);
  }
});

t.test('randomizationCheck fires when treatment depends on age', async (tt) => {
  const data = campaign(7, 3000, (age, u) => (u < (age < 40 ? 0.85 : 0.15) ? 1 : 0));
  const folds = stratifiedFolds(data.treatment, data.outcome, 7);
  const r = randomizationCheck(data, folds, 7);
  tt.ok(r.flagged, `flagged: auc ${r.auc}`);
  tt.ok(r.auc > 0.7, `auc ${r.auc} well above 0.5`);
  // A milder dependence (60/40) on a bigger sample still shows, and the result is deterministic.
  const mild = campaign(8, 6000, (age, u) => (u < (age < 40 ? 0.7 : 0.3) ? 1 : 0));
  const f2 = stratifiedFolds(mild.treatment, mild.outcome, 8);
  const a = randomizationCheck(mild, f2, 8);
  tt.ok(a.flagged, `mild flagged: auc ${a.auc}`);
  tt.same(randomizationCheck(mild, f2, 8), a, 'deterministic');
});

const counts = (nT: number, cT: number, nC: number, cC: number) => ({ nTreated: nT, convTreated: cT, nControl: nC, convControl: cC });

t.test('buildWarnings: each code fires on its condition only', async (tt) => {
  const clean = buildWarnings({
    counts: counts(500, 100, 500, 80),
    randomization: { auc: 0.5, flagged: false },
    heterogeneity: { p_value: 0.001, significant: true },
    report: { droppedConstant: [], pooled: [] },
  });
  tt.same(clean, []);
  const codes = (w: { code: string }[]) => w.map((x) => x.code);
  tt.same(codes(buildWarnings({ counts: counts(500, 29, 500, 80) })), ['FEW_CONVERSIONS']);
  tt.same(codes(buildWarnings({ counts: counts(500, 30, 500, 30) })), []);
  tt.same(codes(buildWarnings({ counts: counts(95, 40, 905, 80) })), ['TREATMENT_SHARE']);
  tt.same(codes(buildWarnings({ counts: counts(100, 40, 900, 80) })), [], 'exactly 10 % is inside');
  tt.same(codes(buildWarnings({ counts: counts(905, 80, 95, 40) })), ['TREATMENT_SHARE']);
  tt.same(codes(buildWarnings({ counts: counts(500, 100, 500, 80), randomization: { auc: 0.71, flagged: true } })), [
    'TREATMENT_PREDICTABLE',
  ]);
  const noHet = buildWarnings({ counts: counts(500, 100, 500, 80), heterogeneity: { p_value: 0.43, significant: false } });
  tt.same(codes(noHet), ['NO_HETEROGENEITY']);
  tt.match(noHet[0].message, /p = 0\.43/);
  tt.match(noHet[0].message, /not supported/);
  const rep = buildWarnings({
    counts: counts(500, 100, 500, 80),
    report: { droppedConstant: ['flag', 'const2'], pooled: [{ feature: 'postal_area', levels: 612, rows: 9000 }] },
  });
  tt.same(codes(rep), ['LEVELS_POOLED', 'CONSTANT_FEATURES']);
  tt.match(rep[0].message, /postal_area \(612 levels, 9000 rows\)/);
  tt.match(rep[1].message, /flag, const2/);
  // a categorical whose levels were all rare is not called constant
  const rare = buildWarnings({
    counts: counts(500, 100, 500, 80),
    report: { droppedConstant: ['flag', 'country'], droppedAllRare: ['country'], rareMin: 100, pooled: [] },
  });
  tt.same(codes(rare), ['CONSTANT_FEATURES']);
  tt.match(rare[0].message, /at most one distinct value: flag\./);
  tt.match(rare[0].message, /every one of their levels has fewer than 100 rows.*: country\./);
  tt.notMatch(rare[0].message, /distinct value: flag, country/);
  // All at once, in the documented order.
  const all = buildWarnings({
    counts: counts(50, 5, 950, 100),
    randomization: { auc: 0.8, flagged: true },
    heterogeneity: { p_value: 0.9, significant: false },
    report: { droppedConstant: ['x'], pooled: [{ feature: 'c', levels: 3, rows: 10 }] },
  });
  tt.same(codes(all), [
    'FEW_CONVERSIONS',
    'TREATMENT_SHARE',
    'TREATMENT_PREDICTABLE',
    'NO_HETEROGENEITY',
    'LEVELS_POOLED',
    'CONSTANT_FEATURES',
  ]);
});

t.test('buildEvaluation assembles the block from out-of-fold scores', async (tt) => {
  const data = campaign(21, 6000, (_age, u) => (u < 0.5 ? 1 : 0));
  const folds = stratifiedFolds(data.treatment, data.outcome, 21);
  // A score that knows the truth (uplift 0.15 below 40): significant, top deciles above bottom.
  const ageBins = data.features.find((f) => f.name === 'age')!;
  const upper = ageBins.upper!;
  const oof = new Float64Array(data.n);
  for (let i = 0; i < data.n; i++) {
    const b = ageBins.bins[i];
    const age = b === 0 ? 50 : b - 1 < upper.length ? upper[b - 1] : 80;
    oof[i] = (age < 40 ? 0.15 : 0) + 0.001 * (i % 7);
  }
  const { evaluation: ev, warnings } = buildEvaluation({ t: data.treatment, y: data.outcome, oof, folds, data, contamination: 0, seed: 3 });
  tt.ok(ev.heterogeneity.significant, `p = ${ev.heterogeneity.p_value}`);
  tt.notOk(warnings.some((w) => w.code === 'NO_HETEROGENEITY'));
  tt.equal(ev.qini_curve.length, 21);
  tt.equal(ev.qini_curve[0].fraction, 0);
  tt.equal(ev.qini_curve[20].fraction, 1);
  tt.equal(ev.deciles.reduce((a, d) => a + d.n_customers, 0), data.n, 'decile sizes sum to n');
  for (const d of ev.deciles) tt.equal(d.n_treated + d.n_control, d.n_customers);
  const top = ev.deciles[ev.deciles.length - 1];
  const bottom = ev.deciles[0];
  tt.ok(top.observed_uplift! > bottom.observed_uplift!, `top ${top.observed_uplift} > bottom ${bottom.observed_uplift}`);
  tt.ok(ev.ate.ci95[0] <= ev.ate.estimate && ev.ate.estimate <= ev.ate.ci95[1]);
  tt.ok(ev.qini_coefficient !== null && ev.qini_coefficient > 0, `qini ${ev.qini_coefficient}`);
  tt.equal(ev.randomization_check.flagged, false);
  // A precomputed randomization check gives the identical block (and the call is deterministic).
  const pre = randomizationCheck(data, folds, 3);
  tt.same(buildEvaluation({ t: data.treatment, y: data.outcome, oof, folds, data, contamination: 0, seed: 3, randomization: pre }).evaluation, ev);
  // Bonferroni for choosing among 6 configurations: p times 6 (capped at 1), test name says so.
  const ev6 = buildEvaluation({ t: data.treatment, y: data.outcome, oof, folds, data, contamination: 0, seed: 3, candidates: 6 }).evaluation;
  tt.ok(Math.abs(ev6.heterogeneity.p_value / ev.heterogeneity.p_value - 6) < 0.01, `adjusted ${ev6.heterogeneity.p_value}`);
  tt.match(ev6.heterogeneity.test, /Bonferroni-adjusted for 6/);

  // The same rows with a score that is pure noise: no heterogeneity warning expected most of the time,
  // and with contamination the ATE doubles.
  const rng = createRng(99);
  const noise = Float64Array.from({ length: data.n }, () => rng.next() * 0.01);
  const { evaluation: ev2, warnings: w2 } = buildEvaluation({
    t: data.treatment, y: data.outcome, oof: noise, folds, data, contamination: 0.5, seed: 3,
  });
  tt.equal(ev2.heterogeneity.significant, ev2.heterogeneity.p_value < 0.05);
  tt.equal(w2.some((w) => w.code === 'NO_HETEROGENEITY'), !ev2.heterogeneity.significant);
  tt.ok(Math.abs(ev2.ate.estimate - 2 * ev.ate.estimate) <= 2e-4, 'contamination doubles the ATE');
  tt.throws(() => buildEvaluation({ t: data.treatment, y: data.outcome, oof: new Float64Array(3), folds, data, contamination: 0, seed: 1 }));
});

// The lab's randomized data never trips the randomization check (5 000 rows each, committed gen.mjs output).
t.test('randomization check on lab data', async (tt) => {
  for (const [scenario, seed] of [['persuadables', 31], ['highcard', 32]] as const) {
    const { body } = loadLab(`${scenario}-5000-s${seed}`);
    const data = encode(toRawDataset(body.rows));
    const folds = stratifiedFolds(data.treatment, data.outcome, seed);
    const r = randomizationCheck(data, folds, seed);
    tt.equal(r.flagged, false, `${scenario}: auc ${r.auc}`);
  }
});
