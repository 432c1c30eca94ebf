import t from 'tap';
import { summarize, conversionRates, correctScores, correctedAte, round4 } from '../../src/ml/eval/summary.js';
import { interpret, signed } from '../../src/ml/eval/interpret.js';
import { createRng } from '../../src/ml/rng.js';

t.test('conversion rates and ATE by hand', async (t) => {
  const tr = Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0]);
  const y = Uint8Array.from([1, 1, 1, 0, 1, 0, 0, 0, 0]);
  const r = conversionRates(tr, y);
  t.equal(r.treatment_cr, 0.75);
  t.equal(r.control_cr, 0.2);
  t.equal(r.nTreated, 4);
  t.ok(Math.abs(correctedAte(0.75, 0.2, 0.5) - 1.1) < 1e-12, '(0.75-0.2)/(1-0.5)');
});

t.test('scores divided by (1 - c) and clipped; rounding', async (t) => {
  const c = correctScores(Float64Array.from([0.1, -0.3, 0.6, -0.7, 0]), 0.4);
  t.same([...c].map((v) => +v.toFixed(12)), [+(0.1 / 0.6).toFixed(12), -0.5, 1, -1, 0]);
  t.equal(round4(0.123456), 0.1235);
  t.equal(round4(-0.00001), 0);
  t.ok(Object.is(round4(-0.00001), 0), 'no negative zero');
  t.equal(round4(-0.12344), -0.1234);
});

t.test('summarize: decile table consistent with per-row deciles and rounded scores', async (t) => {
  const rng = createRng(9);
  const n = 1234;
  const tr = new Uint8Array(n), y = new Uint8Array(n);
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    tr[i] = rng.next() < 0.5 ? 1 : 0;
    y[i] = rng.next() < 0.3 ? 1 : 0;
    raw[i] = Math.round((rng.next() - 0.4) * 300) / 1000 + rng.next() * 1e-5;
  }
  const s = summarize(tr, y, raw, 0.2);
  t.equal(s.decile_summary.reduce((a, b) => a + b.n_customers, 0), n);
  for (const row of s.decile_summary) {
    let sum = 0, cnt = 0;
    for (let i = 0; i < n; i++) if (s.deciles[i] === row.decile) { sum += s.rounded[i]; cnt++; }
    t.equal(cnt, row.n_customers);
    t.ok(Math.abs(sum / cnt - row.mean_uplift) < 1e-12, `mean of decile ${row.decile}`);
  }
  for (let i = 0; i < n; i++) {
    const v = Math.max(-1, Math.min(1, raw[i] / 0.8));
    if (Math.abs(s.scores[i] - v) > 1e-15) { t.fail(`score ${i}`); break; }
    if (s.rounded[i] !== round4(s.scores[i])) { t.fail(`rounded ${i}`); break; }
  }
  const means = s.decile_summary.map((r) => r.mean_uplift);
  t.ok(means.every((m, k) => k === 0 || m > means[k - 1]), 'mean uplift rises with the decile');
  t.throws(() => summarize(tr, y, raw, 1));
});

t.test('interpretation names the top and bottom deciles', async (t) => {
  const text = interpret({
    treatment_cr: 0.6381, control_cr: 0.2571, average_treatment_effect: 0.381,
    decile_summary: [
      { decile: 1, mean_uplift: -0.104, n_customers: 21 },
      { decile: 5, mean_uplift: 0.05, n_customers: 100 },
      { decile: 10, mean_uplift: 0.412, n_customers: 21 },
    ],
  });
  t.equal(
    text,
    'Treatment group converted at 63.81% vs control 25.71% (ATE +0.381). Decile 10 contains 21 customers with ' +
      'mean uplift +0.412, representing ~8.7 additional conversions if fully targeted. Decile 1\'s mean uplift ' +
      'is -0.104 - ideal as a hold-out or cost-control segment.',
  );
  const one = interpret({
    treatment_cr: 0.3, control_cr: 0.3, average_treatment_effect: 0, uniform: true, ate_ci95: [-0.01, 0.012],
    decile_summary: [{ decile: 6, mean_uplift: 0, n_customers: 300 }],
  });
  t.match(one, /All 300 customers fall in one decile/);
  t.match(one, /95% CI -0\.010 to \+0\.012/);
  t.match(one, /targeting by decile is not supported/);
  const uni = interpret({
    treatment_cr: 0.4, control_cr: 0.3, average_treatment_effect: 0.1, uniform: true,
    decile_summary: [
      { decile: 1, mean_uplift: 0.0998, n_customers: 100 },
      { decile: 10, mean_uplift: 0.1003, n_customers: 100 },
    ],
  });
  t.match(uni, /Decile 10 contains 100 customers with mean uplift \+0\.100, representing ~10\.0 additional/);
  t.match(uni, /Decile 1's mean uplift is \+0\.100\. The effect looks uniform/);
  t.notMatch(uni, /hold-out/);
  t.equal(signed(-0.0001, 3), '+0.000');
  t.equal(signed(-0.0006, 3), '-0.001');
});
