import t from 'tap';
import { makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

t.test('per-customer rate limit: 429 with Retry-After, other customers unaffected, checked before the body', async (t) => {
  const { app, headers, store } = await makeApp({ config: { rateLimitMax: 3, rateLimitWindowS: 60 } });
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(10) });
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: URL, headers, payload });
    t.equal(res.statusCode, 422, `request ${i + 1} within the limit`);
  }
  const limited = await app.inject({ method: 'POST', url: URL, headers, payload: '{not json at all' });
  t.equal(limited.statusCode, 429, 'over the limit: 429 (before the malformed body is even parsed)');
  t.equal(limited.json().code, 'UPLIFT_RATE_LIMITED');
  t.match(limited.json().message, /at most 3 requests per 60 s/);
  t.match(limited.headers['retry-after'], /^\d+$/);
  t.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60);

  const other = await store.create('other');
  const res = await app.inject({
    method: 'POST',
    url: URL,
    headers: { ...headers, 'x-customer-api-id': other.customer_api_id, 'x-secret': other.secret },
    payload,
  });
  t.equal(res.statusCode, 422, 'another customer is not limited');

  const anon = await app.inject({ method: 'POST', url: URL, headers: { 'content-type': 'application/json' }, payload });
  t.equal(anon.statusCode, 401, 'no credentials: still 401, not 429');
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health is not limited');
});

t.test('RATE_LIMIT_MAX=0 turns the limit off', async (t) => {
  const { app, headers } = await makeApp({ config: { rateLimitMax: 0 } });
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(10) });
  const codes = new Set<number>();
  for (let i = 0; i < 20; i++) codes.add((await app.inject({ method: 'POST', url: URL, headers, payload })).statusCode);
  t.same([...codes], [422]);
});

t.test('a customer over its limit gets 429 even while the pool is full (the limit is checked first)', async (t) => {
  const { app, headers } = await makeApp({ config: { rateLimitMax: 1, rateLimitWindowS: 60, poolSize: 1, maxQueue: 0 } });
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(10) });
  t.equal((await app.inject({ method: 'POST', url: URL, headers, payload })).statusCode, 422, 'first request within the limit');
  // Fill the pool: the forbidden runner is never reached, so hold a job slot through the pool API.
  let release: () => void = () => undefined;
  const holder = app.pool.job(() => new Promise<void>((r) => (release = r)));
  t.equal(app.pool.full, true);
  const res = await app.inject({ method: 'POST', url: URL, headers, payload });
  t.equal(res.statusCode, 429, '429, not 503: the customer is told to slow down');
  t.equal(res.json().code, 'UPLIFT_RATE_LIMITED');
  release();
  await holder;
});
