/**
 * MAX_BODY_BYTES_IN_FLIGHT: while admitted request bodies hold the budget, a scoring request whose
 * Content-Length would pass it gets 503 UPLIFT_OVERLOADED with Retry-After before its body is read
 * (a malformed body is not even parsed); a small one still fits; the budget is returned when the
 * response is done, and one request is always admitted when nothing else is in flight.
 */
import t from 'tap';
import type { JobRunner } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';
import { inProcessRunner, makeApp, syntheticRows } from '../routes/helpers.js';

const URL = '/api/v1/ai/uplift_model';

t.test('body budget: 503 before reading when admitted bodies would pass MAX_BODY_BYTES_IN_FLIGHT', async (t) => {
  const real = await inProcessRunner();
  const gates: Array<() => void> = [];
  let hold = true;
  const runner: JobRunner = {
    size: 2,
    queueSize: 0,
    async run(task: PoolTask, o) {
      if (task.kind !== 'ping' && hold) await new Promise<void>((r) => gates.push(r));
      return real.run(task, o);
    },
    async close() {},
  };
  const big = JSON.stringify({ rows: syntheticRows(600, 3) });
  t.ok(big.length > 50_000 && big.length < 100_000, `a ${big.length}-byte body`);
  const { app, headers } = await makeApp({ runner, config: { poolSize: 2, maxQueue: 4, bodyBytesInFlight: 100_000, rateLimitMax: 0 } });
  t.teardown(() => app.close());

  const first = app.inject({ method: 'POST', url: URL, headers, payload: big });
  for (let i = 0; i < 500 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(gates.length, 1, 'the first job is held in the pool');
  t.equal(app.bodyBytesInFlight(), big.length, 'its body is charged');

  const refused = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-length': String(big.length) }, payload: `{not json${' '.repeat(big.length - 9)}` });
  t.equal(refused.statusCode, 503, 'a second large body: 503 (its malformed body was never parsed)');
  t.equal(refused.json().code, 'UPLIFT_OVERLOADED');
  t.match(refused.json().message, /large request bodies/);
  t.same(refused.json().details, { body_bytes_in_flight: big.length, max_body_bytes_in_flight: 100_000 });
  t.match(refused.headers['retry-after'], /^\d+$/);

  const small = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows: syntheticRows(10) }) });
  t.equal(small.statusCode, 422, 'a small body still fits in the budget');
  t.equal(app.bodyBytesInFlight(), big.length, 'the small body was returned to the budget');

  hold = false;
  gates.splice(0).forEach((g) => g());
  const res = await first;
  t.equal(res.statusCode, 200, 'the held job completes');
  t.equal(app.bodyBytesInFlight(), 0, 'budget returned after the response');
  const again = await app.inject({ method: 'POST', url: URL, headers, payload: big });
  t.equal(again.statusCode, 200, 'the same large body is admitted once the budget is free');

  // A body larger than the whole budget is still admitted when nothing else is in flight.
  const { app: app2, headers: h2 } = await makeApp({ runner: real, config: { bodyBytesInFlight: 10_000, rateLimitMax: 0 } });
  t.teardown(() => app2.close());
  const alone = await app2.inject({ method: 'POST', url: URL, headers: h2, payload: big });
  t.equal(alone.statusCode, 200, 'alone, a body over the budget is admitted');
});

t.test('over a real keep-alive connection the budget is returned after every response', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner(), config: { bodyBytesInFlight: 100_000, rateLimitMax: 0 } });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const body = JSON.stringify({ rows: syntheticRows(600, 5) });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`http://127.0.0.1:${port}${URL}`, { method: 'POST', headers, body: i === 1 ? '{bad' : i === 2 ? JSON.stringify({ rows: syntheticRows(10) }) : body });
    statuses.push(r.status);
    await r.arrayBuffer();
    await new Promise((res) => setImmediate(res));
    t.equal(app.bodyBytesInFlight(), 0, `request ${i}: nothing charged after the response`);
  }
  t.same(statuses, [200, 400, 422, 200]);
});
