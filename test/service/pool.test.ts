import t from 'tap';
import { buildApp } from '../../src/app.js';
import { datasetTransferList } from '../../schemas/task.js';
import { defaultWorkerFile } from '../../src/plugins/pool.js';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { exampleRequest, makeStore, testConfig } from '../routes/helpers.js';
import { existsSync } from 'node:fs';

const URL = '/api/v1/ai/uplift_model';

t.test('through a real Piscina pool running the compiled worker (dist/)', async (t) => {
  t.ok(existsSync(defaultWorkerFile()), `compiled worker exists at ${defaultWorkerFile()} (npm test builds first)`);
  const { store, id, secret } = await makeStore();
  const app = await buildApp({ config: testConfig({ poolSize: 1, maxQueue: 0 }), keyStore: store, logger: false });
  t.teardown(() => app.close());
  await app.ready();
  await app.pool.whenReady;
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 200, '/ready 200 once the workers answered');
  t.equal(ready.json().pool.size, 1);

  const headers = { 'x-customer-api-id': id, 'x-secret': secret, 'content-type': 'application/json' };
  const req = exampleRequest();
  const payload = JSON.stringify({ ...req, options: { seed: 11 } });

  // One pool thread, no queue: while one job runs, a second is refused with 503 + Retry-After.
  const both = await Promise.all([
    app.inject({ method: 'POST', url: URL, headers, payload }),
    app.inject({ method: 'POST', url: URL, headers, payload }),
  ]);
  const a = both.find((r) => r.statusCode === 200);
  const b = both.find((r) => r.statusCode !== 200);
  t.ok(a && b, `one 200 and one refusal, got ${both.map((r) => r.statusCode).join(', ')}`);
  if (!a || !b) return;
  t.equal(b.statusCode, 503, 'the job arriving while the only worker is busy: 503');
  t.equal(b.json().code, 'UPLIFT_OVERLOADED');
  t.match(b.headers['retry-after'], /^\d+$/, 'Retry-After in seconds');

  const body = a.json();
  t.equal(body.details.length, req.rows.length);
  t.same(body.details.map((d: { id: string }) => d.id), req.rows.map((r) => r.id), 'ids verbatim, input order');
  t.equal(body.decile_summary.reduce((s: number, d: { n_customers: number }) => s + d.n_customers, 0), req.rows.length);

  // The pool is healthy afterwards and gives the same scores for the same seed.
  const c = await app.inject({ method: 'POST', url: URL, headers, payload });
  t.equal(c.statusCode, 200, c.statusCode === 200 ? 'next job: 200' : c.body);
  t.same(c.json().details, body.details, 'same seed through the pool: same details');
});

t.test('the dataset moves to the worker as ArrayBuffers (transfer list), never as row objects', async (t) => {
  const raw = toRawDataset(exampleRequest().rows);
  const list = datasetTransferList(raw);
  t.ok(list.length >= 2 + raw.features.length - 1, 'treatment, outcome and every column listed');
  t.ok(list.every((b) => b instanceof ArrayBuffer), 'only ArrayBuffers');
  t.equal(new Set(list).size, list.length, 'no duplicates (a duplicate makes postMessage throw)');
  // A view into a larger shared slab must not be moved (it would detach memory others use).
  const slab = new ArrayBuffer(1024);
  const view = new Uint8Array(slab, 16, 10);
  const list2 = datasetTransferList({ n: 10, treatment: view, outcome: new Uint8Array(10), features: [] });
  t.notOk(list2.includes(slab), 'partial view not transferred');
  t.equal(list2.length, 1);
});
