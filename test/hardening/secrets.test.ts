/**
 * Secrets: X-Secret (right or wrong) appears in no log line on any path - success, 400, 401 (every
 * variant), 404 with the secret in the query string, 413, 415, 422, 429, 503, 500 - with logs captured
 * at trace level; the key store holds only salted scrypt hashes in a 0600 file, and an unknown id costs a
 * hash through the HTTP path too.
 */
import t from 'tap';
import { scryptSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { KeyStore } from '../../src/keys/store.js';
import type { JobRunner } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';
import { inProcessRunner, makeApp, syntheticRows, tempDir, TEST_SCRYPT } from '../routes/helpers.js';

const URL = '/api/v1/ai/uplift_model';

t.test('X-Secret never appears in any log line, on every path', async (t) => {
  const lines: string[] = [];
  const stream = { write: (s: string) => void lines.push(s) };
  const real = await inProcessRunner();
  let mode: 'real' | 'throw' | 'hold' = 'real';
  const held: Array<() => void> = [];
  const runner: JobRunner = {
    size: 1,
    queueSize: 0,
    async run(task: PoolTask, o) {
      if (task.kind === 'ping') return real.run(task, o);
      if (mode === 'throw') throw new Error('worker failure (test)');
      if (mode === 'hold') await new Promise<void>((r) => held.push(r));
      return real.run(task, o);
    },
    async close() {},
  };
  const { app, headers, secret, id, store } = await makeApp({
    runner,
    logger: { level: 'trace', stream },
    config: { logLevel: 'trace', poolSize: 1, maxQueue: 0, rateLimitMax: 12, bodyLimit: 200_000 },
  });
  t.teardown(() => app.close());
  const wrong = 'WRONG-secret-value-0123456789abcdefghijklmnopq';
  const post = (h: Record<string, string>, payload: string) => app.inject({ method: 'POST', url: URL, headers: h, payload });
  const ok = JSON.stringify({ rows: syntheticRows(240, 2) });
  const statuses: number[] = [];
  const rec = async (p: Promise<{ statusCode: number }>) => statuses.push((await p).statusCode);

  await rec(post(headers, ok)); // 200
  await rec(post(headers, '{bad json')); // 400
  await rec(post(headers, JSON.stringify({ rows: syntheticRows(10) }))); // 422
  await rec(post({ ...headers, 'content-type': 'text/plain' }, ok)); // 415
  await rec(post(headers, JSON.stringify({ pad: 'x'.repeat(300_000), rows: [] }))); // 413
  await rec(app.inject({ method: 'GET', url: `/nope?x-secret=${secret}&s=${wrong}`, headers })); // 404, secret in the query
  // 401s: wrong secret, unknown id, malformed id, over-long secret, no id, repeated header.
  await rec(post({ ...headers, 'x-secret': wrong }, ok));
  await rec(post({ ...headers, 'x-customer-api-id': '0f8fad5b-d9cb-469f-a165-70867728950e' }, ok));
  await rec(post({ ...headers, 'x-customer-api-id': `not-a-uuid-${secret}` }, ok));
  await rec(post({ ...headers, 'x-secret': `${secret}${'y'.repeat(300)}` }, ok));
  await rec(post({ 'x-secret': secret, 'content-type': 'application/json' }, ok));
  await rec(app.inject({ method: 'POST', url: URL, headers: { ...headers, 'x-secret': [secret, wrong] as unknown as string }, payload: ok }));
  // 500: a worker failure (its error object is logged).
  mode = 'throw';
  await rec(post(headers, ok));
  // 503: the only slot is held by a job; the next is refused.
  mode = 'hold';
  const holding = post(headers, ok);
  for (let i = 0; i < 500 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  await rec(post(headers, ok));
  held.splice(0).forEach((r) => r());
  mode = 'real';
  await rec(holding);
  // 429: past RATE_LIMIT_MAX (12 requests of this customer so far above, some unauthenticated).
  for (let i = 0; i < 6; i++) await rec(post(headers, '{}'));
  t.same(
    [...new Set(statuses)].sort((a, b) => a - b),
    [200, 400, 401, 404, 413, 415, 422, 429, 500, 503],
    'every path was exercised',
  );

  const all = lines.join('');
  t.ok(lines.length >= statuses.length, `log lines captured (${lines.length})`);
  t.notOk(all.includes(secret), 'the valid secret is in no log line');
  t.notOk(all.includes(wrong), 'a wrong secret is in no log line');
  t.notOk(all.toLowerCase().includes('x-secret'), 'no header dump names X-Secret at all');
  const parsed = lines.map((l) => JSON.parse(l));
  const failed = parsed.find((l) => l.msg === 'request failed');
  t.ok(failed?.err, 'the 500 was logged with its cause');
  t.ok(parsed.filter((l) => l.msg === 'request completed').every((l) => typeof l.reqId === 'string'), 'request id on every request line');
  t.ok(parsed.some((l) => l.msg === 'request completed' && l.customer_id === id), 'customer id logged (not the secret)');
  t.ok(store.hashesComputed > 0);
});

t.test('key store: only salted scrypt hashes, file 0600 even with a permissive umask; unknown ids cost a hash over HTTP', async (t) => {
  const old = process.umask(0o000);
  const file = path.join(tempDir(), 'keys', 'keys.json');
  let created: { customer_api_id: string; secret: string };
  try {
    const store = new KeyStore(file, { scrypt: TEST_SCRYPT, reloadIntervalMs: 0 });
    created = await store.create('umask-test');
  } finally {
    process.umask(old);
  }
  t.equal(statSync(file).mode & 0o777, 0o600, 'key file 0600');
  t.equal(statSync(path.dirname(file)).mode & 0o777, 0o700, 'key directory 0700');
  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(created.secret), 'the secret is not in the file');
  const rec = JSON.parse(text).keys[0];
  t.same(Object.keys(rec).sort(), ['created_at', 'customer_api_id', 'hash', 'name', 'revoked_at', 'salt', 'scrypt']);
  const salt = Buffer.from(rec.salt, 'base64');
  t.equal(salt.length, 16, '16-byte random salt');
  const expect = scryptSync(created.secret, salt, rec.scrypt.keylen, { N: rec.scrypt.N, r: rec.scrypt.r, p: rec.scrypt.p });
  t.equal(rec.hash, expect.toString('base64'), 'the stored value is scrypt(secret, salt)');

  const { app, headers, store } = await makeApp();
  t.teardown(() => app.close());
  const h0 = store.hashesComputed;
  const res = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'x-customer-api-id': '0f8fad5b-d9cb-469f-a165-70867728950e' }, payload: '{}' });
  t.equal(res.statusCode, 401);
  t.equal(store.hashesComputed, h0 + 1, 'an unknown id cost one scrypt hash, like a known one');
  const wrong = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'x-secret': 'wrong' }, payload: '{}' });
  t.equal(store.hashesComputed, h0 + 2, 'a wrong secret too');
  t.equal(wrong.body, res.body, 'unknown id and wrong secret: byte-identical answers');
});
