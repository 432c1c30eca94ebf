import t from 'tap';
import { forbiddenRunner, inProcessRunner, makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

t.test('hostile bodies get a specific 4xx with a JSON error, never a 5xx', async (t) => {
  const runner = forbiddenRunner();
  const { app, headers } = await makeApp({ runner });
  t.teardown(() => app.close());
  const base = JSON.stringify({ rows: syntheticRows(250) });
  const cases: Array<[string, string, number, string]> = [
    ['truncated JSON', base.slice(0, base.length - 10), 400, 'UPLIFT_MALFORMED_JSON'],
    ['trailing garbage', base + '}}', 400, 'UPLIFT_MALFORMED_JSON'],
    ['a JSON string', '"rows"', 400, 'UPLIFT_INVALID_REQUEST'],
    ['null', 'null', 400, 'UPLIFT_INVALID_REQUEST'],
    ['deep nesting in an ignored key', `{"x":${'['.repeat(5000)}${']'.repeat(5000)},"rows":[]}`, 422, 'UPLIFT_INSUFFICIENT_DATA'],
    ['deep nesting as a feature value', JSON.stringify({ rows: syntheticRows(250).map((r, i) => (i === 3 ? { ...r, features: { a: [[[[1]]]] } } : r)) }), 400, 'UPLIFT_INVALID_REQUEST'],
    ['1e400 as treatment', base.replace('"treatment":0', '"treatment":1e400'), 400, 'UPLIFT_INVALID_REQUEST'],
    ['boolean outcome', base.replace('"outcome":0', '"outcome":false'), 400, 'UPLIFT_INVALID_REQUEST'],
    ['number id', base.replace('"id":"R-0"', '"id":17'), 400, 'UPLIFT_INVALID_REQUEST'],
    ['a 1 MB id', JSON.stringify({ rows: syntheticRows(250).map((r, i) => (i === 0 ? { ...r, id: 'x'.repeat(1 << 20) } : r)) }), 400, 'UPLIFT_INVALID_REQUEST'],
    ['contamination as a string', JSON.stringify({ contamination: 'high', rows: syntheticRows(250) }), 400, 'UPLIFT_INVALID_REQUEST'],
    ['options not an object', JSON.stringify({ options: 'fast', rows: syntheticRows(250) }), 400, 'UPLIFT_INVALID_REQUEST'],
    ['negative seed', JSON.stringify({ options: { seed: -1 }, rows: syntheticRows(250) }), 400, 'UPLIFT_INVALID_REQUEST'],
  ];
  for (const [name, payload, status, code] of cases) {
    const res = await app.inject({ method: 'POST', url: URL, headers, payload });
    t.equal(res.statusCode, status, `${name}: ${status}`);
    const j = res.json();
    t.equal(j.code, code, `${name}: ${code}`);
    t.equal(j.statusCode, status);
    t.type(j.message, 'string');
    t.notMatch(res.body, /at .*\.(ts|js):\d+/, `${name}: no stack trace`);
  }
  const big = JSON.parse(cases[9][1]);
  const res = await app.inject({ method: 'POST', url: URL, headers, payload: cases[9][1] });
  t.ok(res.body.length < 2000, 'a huge id is not echoed back in full');
  t.equal(res.json().details.path, '/rows/0/id');
  t.ok(big.rows[0].id.length > 1e6);
  t.equal(runner.calls, 0);
});

t.test('__proto__ and constructor are ordinary feature names (no prototype pollution); mixed types are categorical', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner() });
  t.teardown(() => app.close());
  const rows = syntheticRows(300).map((r, i) => ({
    ...r,
    features: { ...r.features, mixed: i % 3 === 0 ? 'n/a' : i % 10 },
  }));
  let payload = JSON.stringify({ rows });
  // Inject the keys textually so they are own properties of the parsed objects, as a client would send.
  payload = payload.replace(/"features":\{/g, '"features":{"__proto__":{"polluted":1},"constructor":"x",');
  const res = await app.inject({ method: 'POST', url: URL, headers, payload });
  t.equal(res.statusCode, 400, '__proto__ with an object value is a schema violation (values are number|string|null)');
  t.equal(res.json().details.path, '/rows/0/features/__proto__');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');

  const payload2 = JSON.stringify({ rows }).replace(/"features":\{/g, '"features":{"__proto__":"a","constructor":7,');
  const res2 = await app.inject({ method: 'POST', url: URL, headers, payload: payload2 });
  t.equal(res2.statusCode, 200, res2.statusCode === 200 ? 'accepted' : res2.body);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(Object.prototype.constructor, Object);
});
