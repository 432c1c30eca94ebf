import t from 'tap';
import { exampleRequest, exampleResponse, inProcessRunner, makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';
const SPEC_KEYS = ['average_treatment_effect', 'control_cr', 'decile_summary', 'details', 'interpretation', 'treatment_cr'];

type Resp = {
  average_treatment_effect: number;
  treatment_cr: number;
  control_cr: number;
  decile_summary: Array<{ decile: number; mean_uplift: number; n_customers: number }>;
  details: Array<{ id: string; uplift_score: number; uplift_decile: number }>;
  interpretation: string;
  model?: { type: string; seed: number; cv: unknown[] };
  feature_importance?: Array<{ feature: string; importance: number }>;
};

const decimals = (x: number): number => {
  const s = String(x);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
};

function checkResponse(t: Tap.Test, body: Resp, req: ReturnType<typeof exampleRequest>): void {
  const n = req.rows.length;
  const c = req.contamination ?? 0;
  // observed rates, recomputed here from the request
  let nt = 0, yt = 0, nc = 0, yc = 0;
  for (const r of req.rows) {
    if (r.treatment === 1) { nt++; yt += r.outcome; } else { nc++; yc += r.outcome; }
  }
  const tcr = yt / nt;
  const ccr = yc / nc;
  t.equal(body.treatment_cr, Math.round(tcr * 1e4) / 1e4, 'treatment_cr = observed rate, 4 decimals');
  t.equal(body.control_cr, Math.round(ccr * 1e4) / 1e4, 'control_cr = observed rate, 4 decimals');
  t.ok(Math.abs(body.average_treatment_effect - (tcr - ccr) / (1 - c)) <= 0.00005 + 1e-12, 'ATE = (tcr - ccr) / (1 - c)');

  // details: one per row, input order, ids verbatim, rounded scores in [-1, 1]
  t.equal(body.details.length, n, 'one detail per row');
  t.same(body.details.map((d) => d.id), req.rows.map((r) => r.id), 'details in input order with ids verbatim');
  t.ok(body.details.every((d) => d.uplift_score >= -1 && d.uplift_score <= 1 && decimals(d.uplift_score) <= 4), 'scores in [-1, 1] with at most 4 decimals');

  // decile table: ascending, >= 15 customers each, sums to n, consistent with details
  const ds = body.decile_summary;
  t.ok(ds.length >= 1 && ds.length <= 10, 'between 1 and 10 deciles');
  t.ok(ds.every((d, i) => i === 0 || d.decile > ds[i - 1].decile), 'ascending by decile');
  t.ok(ds.every((d) => d.n_customers >= 15), 'every decile has at least 15 customers');
  t.equal(ds.reduce((s, d) => s + d.n_customers, 0), n, 'decile sizes sum to the row count');
  for (const d of ds) {
    const members = body.details.filter((x) => x.uplift_decile === d.decile);
    t.equal(members.length, d.n_customers, `decile ${d.decile}: n_customers matches details`);
    const mean = members.reduce((s, x) => s + x.uplift_score, 0) / members.length;
    t.ok(Math.abs(mean - d.mean_uplift) <= 0.00006, `decile ${d.decile}: mean_uplift matches details`);
    t.ok(decimals(d.mean_uplift) <= 4);
  }
  t.ok(body.details.every((x) => ds.some((d) => d.decile === x.uplift_decile)), 'every detail decile is in the table');
  for (let i = 1; i < ds.length; i++) {
    const lo = body.details.filter((x) => x.uplift_decile === ds[i - 1].decile).map((x) => x.uplift_score);
    const hi = body.details.filter((x) => x.uplift_decile === ds[i].decile).map((x) => x.uplift_score);
    t.ok(Math.max(...lo) < Math.min(...hi), `deciles ${ds[i - 1].decile} < ${ds[i].decile}: ordered, ties never straddle`);
  }
  if (ds.length > 1) t.match(body.interpretation, /Decile \d+/, 'interpretation names deciles');
  else t.match(body.interpretation, /decile/i, 'interpretation speaks of deciles (all scores in one decile)');
}

t.test('the spec example: 200 with the SPEC shape and consistent numbers', async (t) => {
  const runner = await inProcessRunner();
  const { app, headers } = await makeApp({ runner });
  t.teardown(() => app.close());
  const req = exampleRequest();
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify(req) });
  t.equal(res.statusCode, 200, res.statusCode === 200 ? '200' : res.body);
  t.match(res.headers['content-type'], /application\/json/);
  const body = res.json() as Resp;

  // golden SHAPE against the spec's example response (its values came from an overfit model)
  const golden = exampleResponse() as unknown as Resp;
  for (const k of SPEC_KEYS) t.ok(k in body, `has ${k}`);
  for (const k of SPEC_KEYS) t.equal(typeof (body as unknown as Record<string, unknown>)[k], typeof (golden as unknown as Record<string, unknown>)[k], `${k}: same type as the example`);
  t.same(Object.keys(body.decile_summary[0]).sort(), Object.keys(golden.decile_summary[0]).sort(), 'decile_summary item keys');
  t.same(Object.keys(body.details[0]).sort(), Object.keys(golden.details[0]).sort(), 'details item keys');
  t.equal(body.details.length, golden.details.length);
  t.equal(body.treatment_cr, golden.treatment_cr, 'observed treatment rate equals the example');
  t.equal(body.control_cr, golden.control_cr, 'observed control rate equals the example');

  checkResponse(t, body, req);

  // additions under new keys
  t.ok(body.model && ['uplift_rf', 't_learner', 'blend'].includes(body.model.type), 'model.type reported');
  t.ok(Array.isArray(body.feature_importance), 'feature_importance reported');
  const kinds = runner.tasks.map((x) => x.kind).filter((k) => k !== 'ping');
  t.equal(kinds[0], 'prepare', 'the job starts with prepare');
  t.equal(kinds[kinds.length - 1], 'finish', 'and ends with finish');
  t.ok(kinds.filter((k) => k === 'cv').length >= 3, 'cross-validation fits as separate tasks');
});

t.test('same options.seed -> same scores; the seed is reported', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner() });
  t.teardown(() => app.close());
  // Strong, heterogeneous effect (treated customers under 40 convert +30 pp), so scores vary by customer.
  const rows = syntheticRows(1200, 5);
  const post = async (seed: number) => {
    const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows, options: { seed } }) });
    t.equal(res.statusCode, 200);
    return res.json() as Resp;
  };
  const a = await post(7);
  const b = await post(7);
  const c = await post(8);
  t.ok(new Set(a.details.map((d) => d.uplift_score)).size > 1, 'scores vary (the determinism check is not vacuous)');
  t.same(a.details, b.details, 'same seed: identical details');
  t.same(a.decile_summary, b.decile_summary, 'same seed: identical deciles');
  t.equal(a.model?.seed, 7);
  t.equal(c.model?.seed, 8);
  t.notSame(a.details.map((d) => d.uplift_score), c.details.map((d) => d.uplift_score), 'another seed: other scores');
});

t.test('null and absent feature values, unicode ids and names, no contamination: 200', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner() });
  t.teardown(() => app.close());
  const req = exampleRequest();
  delete (req as { contamination?: number }).contamination;
  req.rows.forEach((r, i) => {
    if (i % 5 === 0) r.features.age = null;
    if (i % 7 === 0) delete r.features.country;
    if (i % 11 === 0) r.features = {};
    if (i % 3 === 0) r.features['région ✓'] = i % 2 ? 'nord' : 'sud';
  });
  req.rows[0].id = 'Ünïcødé id ✓ 001';
  req.rows[1].id = '  spaced id  ';
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify(req) });
  t.equal(res.statusCode, 200, res.statusCode === 200 ? '200' : res.body);
  const body = res.json() as Resp;
  t.equal(body.details[0].id, 'Ünïcødé id ✓ 001');
  t.equal(body.details[1].id, '  spaced id  ');
  checkResponse(t, body, req);
});

t.test('contamination divides scores and ATE by (1 - c); the ranking is kept', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner() });
  t.teardown(() => app.close());
  const req = exampleRequest();
  const post = async (contamination: number) => {
    const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ ...req, contamination, options: { seed: 3 } }) });
    t.equal(res.statusCode, 200);
    return res.json() as Resp;
  };
  const a = await post(0);
  const b = await post(0.2);
  const f = 1 / (1 - 0.2);
  t.ok(Math.abs(b.average_treatment_effect - a.average_treatment_effect * f) <= 0.0002, 'ATE x 1/(1 - c)');
  const ok = a.details.every((d, i) => Math.abs(Math.max(-1, Math.min(1, d.uplift_score * f)) - b.details[i].uplift_score) <= 0.0002);
  t.ok(ok, 'each score x 1/(1 - c) (within rounding), kept within [-1, 1]');
  // Ranking kept: ordered by the uncontaminated scores (ties, which rounding can split, by the corrected
  // ones), the corrected scores never decrease - i.e. no pair changes order.
  const order = a.details
    .map((_, i) => i)
    .sort((i, j) => a.details[i].uplift_score - a.details[j].uplift_score || b.details[i].uplift_score - b.details[j].uplift_score);
  const seq = order.map((i) => b.details[i].uplift_score);
  t.ok(seq.every((v, k) => k === 0 || v >= seq[k - 1]), 'same ranking');
  // With the same tie structure (rounding can merge or split ties at 4 decimals), the deciles are equal.
  const distinct = (r: Resp) => new Set(r.details.map((d) => d.uplift_score)).size;
  if (distinct(a) === distinct(b)) t.same(b.details.map((d) => d.uplift_decile), a.details.map((d) => d.uplift_decile), 'same deciles');
  else t.pass(`tie structure changed by rounding (${distinct(a)} vs ${distinct(b)} distinct scores); deciles may differ`);
});

type Issue4 = Resp & {
  model: { type: string; seed: number; cv: Array<{ config: string; mean_qini: number | null; fold_qini: Array<number | null> }>; train_ms: number; calibration: { applied: boolean; slope: number; center: number; method: string } };
  feature_importance: Array<{ feature: string; importance: number }>;
  evaluation: {
    qini_coefficient: number | null;
    qini_curve: Array<{ fraction: number; incremental_conversions: number; random: number }>;
    deciles: Array<{ decile: number; n_customers: number; n_treated: number; n_control: number; predicted_uplift: number; observed_uplift: number | null; observed_uplift_se: number | null }>;
    ate: { estimate: number; ci95: [number, number] };
    heterogeneity: { p_value: number; significant: boolean; slope: number | null; slope_se: number | null; test: string; fold_p_values: number[]; candidate_p_values?: number[] };
    randomization_check: { auc: number; null_se: number; flagged: boolean };
  };
  warnings: Array<{ code: string; message: string }>;
};

/** The issue-4 blocks: present, serialized in full, and consistent with the request and the SPEC fields. */
function checkTrust(t: Tap.Test, body: Issue4, req: { rows: Array<{ treatment: number; outcome: number }> }): void {
  const n = req.rows.length;
  const nTreated = req.rows.filter((r) => r.treatment === 1).length;
  const ev = body.evaluation;
  t.ok(ev, 'evaluation present');
  t.same(Object.keys(ev).sort(), ['ate', 'deciles', 'heterogeneity', 'qini_coefficient', 'qini_curve', 'randomization_check']);
  t.equal(ev.deciles.reduce((s, d) => s + d.n_customers, 0), n, 'evaluation.deciles n sums to n');
  t.equal(ev.deciles.reduce((s, d) => s + d.n_treated, 0), nTreated, 'treated rows sum to the treated count');
  t.ok(ev.deciles.every((d) => d.n_treated + d.n_control === d.n_customers), 'treated + control = customers per decile');
  t.ok(ev.deciles.every((d, i) => i === 0 || d.decile > ev.deciles[i - 1].decile), 'ascending deciles');
  t.ok(ev.deciles.every((d) => 'observed_uplift' in d && 'observed_uplift_se' in d && 'predicted_uplift' in d), 'decile fields serialized');
  t.ok(ev.deciles.every((d, i) => i === 0 || d.predicted_uplift >= ev.deciles[i - 1].predicted_uplift - 1e-4), 'predicted uplift rises with the decile');
  t.ok(ev.qini_curve.length >= 21, 'qini curve at least every 5 %');
  t.same(ev.qini_curve.map((p) => p.fraction), Array.from({ length: 21 }, (_, k) => Math.round(k * 5) / 100));
  t.same([ev.qini_curve[0].incremental_conversions, ev.qini_curve[0].random], [0, 0], 'starts at 0');
  const end = ev.qini_curve[20];
  t.ok(Math.abs(end.incremental_conversions - end.random) < 1e-3, 'ends on the random line');
  t.ok(Math.abs(ev.ate.estimate - body.average_treatment_effect) <= 1e-4, 'evaluation.ate = average_treatment_effect');
  t.ok(ev.ate.ci95.length === 2 && ev.ate.ci95[0] <= ev.ate.estimate && ev.ate.estimate <= ev.ate.ci95[1], 'ci95 brackets the estimate');
  const h = ev.heterogeneity;
  t.ok(h.p_value >= 0 && h.p_value <= 1 && typeof h.significant === 'boolean' && typeof h.test === 'string');
  t.equal(h.fold_p_values.length, 3);
  t.equal(h.candidate_p_values?.length, body.model.cv.length, 'one p-value per candidate in model.cv');
  const uniform = /targeting by decile is not supported by this data/.test(body.interpretation);
  t.equal(uniform, !h.significant, 'the interpretation says uniform exactly when the test is not significant');
  t.equal(body.warnings.some((w) => w.code === 'NO_HETEROGENEITY'), !h.significant, 'NO_HETEROGENEITY warning likewise');
  t.match(body.interpretation, /ATE [+-]\d\.\d{3}, 95% CI [+-]\d\.\d{3} to [+-]\d\.\d{3}/, 'the ATE quoted with its interval');
  const r = ev.randomization_check;
  t.ok(r.auc >= 0 && r.auc <= 1 && r.null_se > 0);
  t.equal(body.warnings.some((w) => w.code === 'TREATMENT_PREDICTABLE'), r.flagged);
  t.ok(body.warnings.every((w) => typeof w.code === 'string' && w.message.length > 10), 'warnings have code and message');
  const fi = body.feature_importance;
  const total = fi.reduce((s, f) => s + f.importance, 0);
  t.ok(fi.length > 0 && (Math.abs(total - 1) < 1e-3 || fi.every((f) => f.importance === 0)), `importance sums to 1 (4-decimal rounding), or all 0 when the model made no split: ${JSON.stringify(fi)}`);
  t.ok(fi.every((f, i) => i === 0 || f.importance <= fi[i - 1].importance), 'importance descending');
  const c = body.model.calibration;
  t.ok(c && c.applied === true && c.slope >= 0.05 && c.slope <= 1 && typeof c.method === 'string', 'model.calibration reported');
  if (!h.significant) t.equal(c.slope, 0.05, 'no evidence of heterogeneity: minimum calibration slope');
  t.ok(Number.isInteger(body.model.train_ms));
}

t.test('issue 4 blocks: evaluation, model, feature_importance, warnings', async (t) => {
  const runner = await inProcessRunner();
  const { app, headers } = await makeApp({ runner });
  t.teardown(() => app.close());
  // heterogeneous effect (treated customers under 40: +30 pp), randomized (alternating groups)
  const rows = syntheticRows(1500, 9);
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows, options: { seed: 4 } }) });
  t.equal(res.statusCode, 200, res.statusCode === 200 ? '200' : res.body);
  const body = res.json() as Issue4;
  checkTrust(t, body, { rows });
  t.ok(body.evaluation.heterogeneity.significant, `real heterogeneity found (p ${body.evaluation.heterogeneity.p_value})`);
  t.notOk(body.evaluation.randomization_check.flagged, 'randomized groups: no TREATMENT_PREDICTABLE');
  t.equal(body.feature_importance[0].feature, 'age', 'the driver ranks first');
  const top = body.evaluation.deciles[body.evaluation.deciles.length - 1];
  const bottom = body.evaluation.deciles[0];
  t.ok(top.observed_uplift! > bottom.observed_uplift!, 'out of fold, the top decile did better than the bottom one');
  t.ok(runner.tasks.some((x) => x.kind === 'randomization'), 'the randomization check ran as its own task');

  // the spec's example (few rows): the blocks are there and consistent too
  const req = exampleRequest();
  const ex = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify(req) });
  t.equal(ex.statusCode, 200);
  checkTrust(t, ex.json() as Issue4, req);
});

t.test('issue 4: treatment that follows a feature raises TREATMENT_PREDICTABLE', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner() });
  t.teardown(() => app.close());
  const rows = syntheticRows(1500, 10);
  let s = 99;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (const r of rows) r.treatment = rnd() < ((r.features.age as number) < 40 ? 0.85 : 0.15) ? 1 : 0;
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows, options: { seed: 4, model: 't_learner' } }) });
  t.equal(res.statusCode, 200, res.statusCode === 200 ? '200' : res.body);
  const body = res.json() as Issue4;
  checkTrust(t, body, { rows });
  t.ok(body.evaluation.randomization_check.flagged, `auc ${body.evaluation.randomization_check.auc}`);
  t.match(body.warnings.find((w) => w.code === 'TREATMENT_PREDICTABLE')?.message ?? '', /randomized/);
});
