import t from 'tap';
import { forbiddenRunner, makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

function rows(n = 250) {
  return syntheticRows(n);
}

t.test('400 schema violations name the path and the row id; nothing reaches the pool', async (t) => {
  const runner = forbiddenRunner();
  const { app, headers } = await makeApp({ runner });
  t.teardown(() => app.close());
  const post = (body: unknown) => app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify(body) });

  // treatment: 2 in row 17
  let r = rows();
  (r[17] as { treatment: number }).treatment = 2;
  let res = await post({ rows: r });
  t.equal(res.statusCode, 400);
  let j = res.json();
  t.equal(j.code, 'UPLIFT_INVALID_REQUEST');
  t.equal(j.error, 'Bad Request');
  t.equal(j.details.path, '/rows/17/treatment');
  t.equal(j.details.row_index, 17);
  t.equal(j.details.row_id, r[17].id);
  t.match(j.message, /\/rows\/17\/treatment must be 0 or 1/);
  t.match(j.message, new RegExp(`id "${r[17].id}"`));

  // contamination: 1 (must be < 1)
  res = await post({ contamination: 1, rows: rows() });
  t.equal(res.statusCode, 400);
  j = res.json();
  t.equal(j.details.path, '/contamination');
  t.match(j.message, /\/contamination must be < 1/);

  res = await post({ contamination: -0.1, rows: rows() });
  t.equal(res.statusCode, 400, 'negative contamination');
  res = await post({ contamination: '0.1', rows: rows() });
  t.equal(res.statusCode, 400, 'contamination as a string is not coerced');
  t.equal(res.json().details.path, '/contamination');

  // a row without features
  r = rows();
  delete (r[5] as { features?: unknown }).features;
  res = await post({ rows: r });
  t.equal(res.statusCode, 400);
  j = res.json();
  t.equal(j.details.path, '/rows/5/features');
  t.equal(j.details.row_id, 'R-5');
  t.match(j.message, /\/rows\/5\/features is required/);

  // outcome as a string "1" is not coerced
  r = rows();
  (r[3] as { outcome: unknown }).outcome = '1';
  res = await post({ rows: r });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/rows/3/outcome');

  // a feature value that is an object
  r = rows();
  (r[9].features as Record<string, unknown>).age = { nested: true };
  res = await post({ rows: r });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/rows/9/features/age');

  // empty id, missing rows, rows not an array, body not an object
  r = rows();
  (r[0] as { id: string }).id = '';
  res = await post({ rows: r });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/rows/0/id');
  res = await post({ contamination: 0 });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/rows');
  res = await post({ rows: 'many' });
  t.equal(res.statusCode, 400);
  res = await post([1, 2, 3]);
  t.equal(res.statusCode, 400);

  // options: unknown model, unknown key, non-integer seed
  res = await post({ rows: rows(), options: { model: 'xgboost' } });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/options/model');
  t.match(res.json().message, /"auto", "uplift_rf", "t_learner"/);
  res = await post({ rows: rows(), options: { modle: 'auto' } });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/options/modle');
  res = await post({ rows: rows(), options: { seed: 1.5 } });
  t.equal(res.statusCode, 400);
  t.equal(res.json().details.path, '/options/seed');

  t.equal(runner.calls, 0, 'no job was queued for any invalid request');
});

t.test('malformed JSON, empty body, wrong content type', async (t) => {
  const { app, headers } = await makeApp();
  t.teardown(() => app.close());
  let res = await app.inject({ method: 'POST', url: URL, headers, payload: '{"rows": [' });
  t.equal(res.statusCode, 400);
  t.equal(res.json().code, 'UPLIFT_MALFORMED_JSON');
  t.match(res.json().message, /not valid JSON/);
  res = await app.inject({ method: 'POST', url: URL, headers, payload: '{"rows": []} trailing' });
  t.equal(res.statusCode, 400, 'trailing garbage');
  t.equal(res.json().code, 'UPLIFT_MALFORMED_JSON');
  res = await app.inject({ method: 'POST', url: URL, headers, payload: '' });
  t.equal(res.statusCode, 400, 'empty body');
  t.equal(res.json().code, 'UPLIFT_MALFORMED_JSON');
  res = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'text/plain' }, payload: '{}' });
  t.equal(res.statusCode, 415);
  t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode']);
  t.equal(res.json().code, 'UPLIFT_UNSUPPORTED_MEDIA_TYPE');
  res = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
  t.equal(res.statusCode, 415);
  res = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, payload: '{"rows": 1}' });
  t.equal(res.statusCode, 400, 'charset parameter accepted; then schema error');
});

t.test('413 over the body limit', async (t) => {
  const { app, headers } = await makeApp({ config: { bodyLimit: 10_000 } });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows: rows(300) }) });
  t.equal(res.statusCode, 413);
  t.equal(res.json().code, 'UPLIFT_BODY_TOO_LARGE');
  t.match(res.json().message, /10000 bytes/);
});

t.test('422 insufficient data names the failed rule and the counts', async (t) => {
  const { app, headers } = await makeApp();
  t.teardown(() => app.close());
  const post = (body: unknown) => app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify(body) });

  let res = await post({ rows: rows(199) });
  t.equal(res.statusCode, 422);
  let j = res.json();
  t.equal(j.code, 'UPLIFT_INSUFFICIENT_DATA');
  t.same(j.details.failed_rules, ['min_rows']);
  t.equal(j.details.counts.rows, 199);
  t.match(j.message, /at least 200 rows.*got 199/);

  res = await post({ rows: [] });
  t.equal(res.statusCode, 422, 'no rows at all');

  let r = rows().map((x) => ({ ...x, treatment: 1 }));
  res = await post({ rows: r });
  t.equal(res.statusCode, 422);
  j = res.json();
  t.same(j.details.failed_rules, ['both_groups']);
  t.equal(j.details.counts.control, 0);
  t.equal(j.details.counts.treated, 250);
  t.match(j.message, /250 treated and 0 control/);

  r = rows().map((x) => ({ ...x, outcome: 0 }));
  res = await post({ rows: r });
  t.equal(res.statusCode, 422);
  j = res.json();
  t.same(j.details.failed_rules, ['both_outcomes']);
  t.equal(j.details.counts.conversions, 0);
  t.match(j.message, /0 conversions and 250 non-conversions/);

  r = rows().map((x) => ({ ...x, outcome: 1 }));
  res = await post({ rows: r });
  t.equal(res.json().details.counts.non_conversions, 0, 'all conversions');

  r = rows(150).map((x) => ({ ...x, treatment: 0 }));
  res = await post({ rows: r });
  t.same(res.json().details.failed_rules, ['min_rows', 'both_groups'], 'several failed rules are all named');
});

t.test('422 duplicate ids name the id and the rows', async (t) => {
  const { app, headers } = await makeApp();
  t.teardown(() => app.close());
  const r = rows();
  r[40].id = r[7].id;
  r[90].id = r[7].id;
  r[120].id = r[100].id;
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows: r }) });
  t.equal(res.statusCode, 422);
  const j = res.json();
  t.equal(j.code, 'UPLIFT_DUPLICATE_ID');
  t.same(j.details.duplicates, [
    { id: 'R-7', rows: [7, 40, 90], count: 3 },
    { id: 'R-100', rows: [100, 120], count: 2 },
  ]);
  t.equal(j.details.duplicate_rows, 3);
  t.match(j.message, /Duplicate id "R-7" in rows 7, 40, 90/);
});

t.test('422 for one id repeated 5 000 times stays small', async (t) => {
  const { app, headers } = await makeApp();
  t.teardown(() => app.close());
  const r = rows(5000).map((x) => ({ ...x, id: 'same' }));
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows: r }) });
  t.equal(res.statusCode, 422);
  const d = res.json().details;
  t.equal(d.duplicates.length, 1);
  t.equal(d.duplicates[0].count, 5000);
  t.equal(d.duplicates[0].rows.length, 20, 'row list capped');
  t.equal(d.duplicate_rows, 4999);
  t.ok(res.body.length < 2000);
});

t.test('unknown routes and methods get JSON errors', async (t) => {
  const { app, headers } = await makeApp();
  t.teardown(() => app.close());
  let res = await app.inject({ method: 'GET', url: '/nope' });
  t.equal(res.statusCode, 404);
  t.equal(res.json().code, 'UPLIFT_NOT_FOUND');
  res = await app.inject({ method: 'GET', url: URL, headers });
  t.equal(res.statusCode, 405);
  t.equal(res.json().code, 'UPLIFT_METHOD_NOT_ALLOWED');
});
