import t from 'tap';
import { makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

t.test('one log line per request with customer id and rows; X-Secret never logged', async (t) => {
  const lines: string[] = [];
  const stream = { write: (s: string) => void lines.push(s) };
  const { app, headers, id, secret } = await makeApp({ logger: { level: 'trace', stream }, config: { logLevel: 'trace' } });
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(199) });
  await app.inject({ method: 'POST', url: URL, headers, payload });
  await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'x-secret': 'a-wrong-secret-value' }, payload });
  await app.inject({ method: 'POST', url: URL, headers, payload: '{bad json' });
  await app.inject({ method: 'GET', url: '/health', headers });
  // Something that logs the request object with its headers must still redact the secret.
  app.log.info({ req: { headers: { 'x-secret': secret } }, headers: { 'x-secret': secret } }, 'explicit header log');

  const all = lines.join('');
  t.notOk(all.includes(secret), 'the secret appears in no log line');
  t.notOk(all.includes('a-wrong-secret-value'), 'a wrong secret appears in no log line either');
  t.match(all, /\[REDACTED\]/, 'redaction marker present where a header was logged');
  const done = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
  t.equal(done.length, 4, 'one line per request');
  t.same(
    done.map((l) => [l.statusCode, l.url]),
    [
      [422, URL],
      [401, URL],
      [400, URL],
      [200, '/health'],
    ],
  );
  t.equal(done[0].customer_id, id, 'authenticated request: customer id');
  t.equal(done[0].rows, 199, 'rows');
  t.type(done[0].duration_ms, 'number');
  t.equal(done[1].customer_id, null, 'failed auth: no customer id');
  t.ok(done.every((l) => typeof l.reqId === 'string'), 'request id on every line');
});
