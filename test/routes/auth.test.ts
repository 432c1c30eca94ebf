import t from 'tap';
import { makeApp, syntheticRows } from './helpers.js';
import { UNAUTHORIZED_MESSAGE } from '../../src/errors.js';

const URL = '/api/v1/ai/uplift_model';

t.test('one byte-identical 401 for missing, malformed, unknown and wrong credentials', async (t) => {
  const { app, id, secret, store } = await makeApp();
  t.teardown(() => app.close());
  const body = JSON.stringify({ rows: syntheticRows(199) });
  const ct = { 'content-type': 'application/json' };
  const cases: Array<[string, Record<string, string>]> = [
    ['no headers', ct],
    ['no secret', { ...ct, 'x-customer-api-id': id }],
    ['no id', { ...ct, 'x-secret': secret }],
    ['malformed id', { ...ct, 'x-customer-api-id': 'not-a-uuid', 'x-secret': secret }],
    ['empty secret', { ...ct, 'x-customer-api-id': id, 'x-secret': '' }],
    ['over-long secret', { ...ct, 'x-customer-api-id': id, 'x-secret': 'x'.repeat(5000) }],
    ['unknown id', { ...ct, 'x-customer-api-id': '0f8fad5b-d9cb-469f-a165-70867728950e', 'x-secret': secret }],
    ['wrong secret', { ...ct, 'x-customer-api-id': id, 'x-secret': secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A') }],
  ];
  const bodies = new Set<string>();
  for (const [name, headers] of cases) {
    const res = await app.inject({ method: 'POST', url: URL, headers, payload: body });
    t.equal(res.statusCode, 401, `${name}: 401`);
    bodies.add(res.body);
    const json = res.json();
    t.same(json, { statusCode: 401, code: 'UPLIFT_UNAUTHORIZED', error: 'Unauthorized', message: UNAUTHORIZED_MESSAGE }, `${name}: body`);
    t.notOk(res.body.includes(secret), `${name}: secret not echoed`);
  }
  t.equal(bodies.size, 1, 'every 401 body is byte-identical');

  // Unknown id and wrong secret both cost exactly one scrypt hash (no timing shortcut for unknown ids).
  const h0 = store.hashesComputed;
  await app.inject({ method: 'POST', url: URL, headers: cases[6][1], payload: body });
  t.equal(store.hashesComputed - h0, 1, 'unknown id: one hash computed');
  const h1 = store.hashesComputed;
  await app.inject({ method: 'POST', url: URL, headers: cases[7][1], payload: body });
  t.equal(store.hashesComputed - h1, 1, 'wrong secret: one hash computed');
});

t.test('valid credentials pass (the request reaches the data checks); the id is case-insensitive', async (t) => {
  const { app, headers, id } = await makeApp();
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(199) });
  let res = await app.inject({ method: 'POST', url: URL, headers, payload });
  t.equal(res.statusCode, 422, 'past auth: 422 for 199 rows');
  res = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'x-customer-api-id': id.toUpperCase() }, payload });
  t.equal(res.statusCode, 422, 'upper-case id accepted');
});

t.test('a revoked key gets the same 401', async (t) => {
  const { app, headers, id, store } = await makeApp();
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(199) });
  t.equal((await app.inject({ method: 'POST', url: URL, headers, payload })).statusCode, 422);
  t.ok(store.revoke(id), 'revoked');
  const res = await app.inject({ method: 'POST', url: URL, headers, payload });
  t.equal(res.statusCode, 401);
  t.equal(res.json().message, UNAUTHORIZED_MESSAGE);
});

t.test('auth runs before the body is read: unauthenticated bad bodies get 401, not 400/413/415', async (t) => {
  const { app } = await makeApp({ config: { bodyLimit: 2048 } });
  t.teardown(() => app.close());
  for (const [ct, payload] of [
    ['application/json', '{not json'],
    ['text/plain', 'hello'],
    ['application/json', JSON.stringify({ rows: syntheticRows(300) })],
  ]) {
    const res = await app.inject({ method: 'POST', url: URL, headers: { 'content-type': ct }, payload });
    t.equal(res.statusCode, 401, `${ct} ${payload.length} bytes -> 401`);
  }
});

t.test('health and ready need no credentials', async (t) => {
  const { app } = await makeApp();
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
});
