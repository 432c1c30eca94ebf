import t from 'tap';
import { inProcessRunner, makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

// Odd but valid bodies run through the real engine (in-process): each gets a 200 or a specific 4xx.
t.test('odd but valid data never yields a 5xx', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner() });
  t.teardown(() => app.close());
  const post = (body: unknown) => app.inject({ method: 'POST', url: URL, headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  const base = syntheticRows(300, 3);

  let res = await post({ rows: base.map((r) => ({ ...r, features: {} })) });
  t.equal(res.statusCode, 200, `empty features everywhere: ${res.statusCode === 200 ? 'scored' : res.body}`);
  if (res.statusCode === 200) t.equal(new Set(res.json().details.map((d: { uplift_score: number }) => d.uplift_score)).size, 1, 'no features: one score for all');

  res = await post({ rows: base.map((r) => ({ ...r, features: { a: null, b: null } })) });
  t.equal(res.statusCode, 200, 'all feature values null');

  const wide: Record<string, number> = {};
  for (let j = 0; j < 10000; j++) wide[`f${j}`] = j;
  res = await post({ rows: base.map((r, i) => (i === 0 ? { ...r, features: wide } : r)) });
  t.equal(res.statusCode, 413, `10 000 features in one row: over MAX_FEATURES (default 1000)`);
  t.equal(res.json().details?.limit, 'MAX_FEATURES');

  res = await post(JSON.stringify({ rows: base }).replace(/"score":[0-9.]+/, '"score":1e400'));
  t.equal(res.statusCode, 400, '1e400 as a feature value: not a finite number, a schema error');
  t.match(res.json().details?.path, /^\/rows\/0\/features\/score$/);

  res = await post({ rows: base.map((r, i) => ({ ...r, features: { ...r.features, level: `L${i}` } })) });
  t.equal(res.statusCode, 200, 'a categorical with one level per row');

  res = await post({ rows: base.map((r, i) => ({ ...r, features: { 'ünï cødé ✓': i % 4, '': 'empty name' } })) });
  t.equal(res.statusCode, 200, 'unicode and empty feature names');

  res = await post({ contamination: 0.999, rows: base });
  t.equal(res.statusCode, 200, 'contamination just below 1');
  if (res.statusCode === 200) t.ok(res.json().details.every((d: { uplift_score: number }) => d.uplift_score >= -1 && d.uplift_score <= 1), 'scores still within [-1, 1]');
});
