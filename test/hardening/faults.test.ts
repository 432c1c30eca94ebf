/**
 * Faults and cancellation through a REAL Piscina pool running a test-only worker
 * (test/hardening/fault-worker.mjs: the compiled worker plus faults on reserved seeds):
 * - a task that throws, a thread that dies -> 500 with a generic message, the request id in the header
 *   and in the error log line; the next request succeeds;
 * - JOB_TIMEOUT_S -> 503 UPLIFT_JOB_TIMEOUT, the spinning thread is terminated (pool stats) and its CPU
 *   freed (process CPU time while spinning vs after); the next request succeeds;
 * - a client that closes its socket mid-job -> the job is cancelled (thread terminated, log line).
 */
import t from 'tap';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.js';
import { makeStore, syntheticRows, testConfig } from '../routes/helpers.js';

const URL = '/api/v1/ai/uplift_model';
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fault-worker.mjs');
const FAULT_THROW = 4000000001;
const FAULT_EXIT = 4000000002;
const FAULT_SPIN = 4000000003;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, maxMs = 20000): Promise<void> {
  for (let waited = 0; !cond(); waited += 10) {
    if (waited > maxMs) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

async function setup(t: Tap.Test) {
  const lines: string[] = [];
  const stream = { write: (s: string) => void lines.push(s) };
  const { store, id, secret } = await makeStore();
  const app = await buildApp({
    config: testConfig({ poolSize: 1, maxQueue: 2, rateLimitMax: 0, jobTimeoutS: 0, logLevel: 'info' }),
    keyStore: store,
    workerFile: WORKER,
    logger: { stream },
  });
  t.teardown(() => app.close());
  await app.ready();
  await app.pool.whenReady;
  const headers = { 'x-customer-api-id': id, 'x-secret': secret, 'content-type': 'application/json' };
  const rows = syntheticRows(240, 5);
  const body = (seed: number) => JSON.stringify({ rows, options: { seed } });
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
  return { app, headers, body, logs, lines, secret };
}

// Tap's type namespace is not exported under a stable name; a structural alias is enough here.
declare namespace Tap {
  type Test = { teardown(fn: () => unknown): void };
}

t.test('a worker task that throws, and a worker thread that dies: generic 500 with request id, logged; next request 200', async (t) => {
  const { app, headers, body, logs, lines, secret } = await setup(t);
  const threads0 = app.pool.stats();
  t.equal(threads0.threads_started, 1, 'one thread started');

  for (const [name, seed] of [
    ['task throws', FAULT_THROW],
    ['thread dies (process.exit in the worker)', FAULT_EXIT],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: URL, headers, payload: body(seed) });
    t.equal(res.statusCode, 500, `${name}: 500`);
    t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'], `${name}: only the generic fields`);
    t.equal(res.json().code, 'UPLIFT_INTERNAL');
    t.notMatch(res.body, /injected|exited|code: 7|internal detail/, `${name}: no cause in the answer`);
    t.notMatch(res.body, /\.(ts|js|mjs):\d+/, `${name}: no stack trace`);
    const reqId = res.headers['x-request-id'] as string;
    t.match(reqId, /^[0-9a-f-]{36}$/, `${name}: request id header`);
    const errLine = logs().find((l) => l.reqId === reqId && l.level >= 50);
    t.ok(errLine, `${name}: an error log line carries the request id`);
    t.match(JSON.stringify(errLine?.err ?? {}), seed === FAULT_THROW ? /injected worker failure/ : /worker exited with code: 7/, `${name}: the cause is logged`);

    const next = await app.inject({ method: 'POST', url: URL, headers, payload: body(3) });
    t.equal(next.statusCode, 200, `${name}: the next request succeeds`);
  }
  const s = app.pool.stats();
  t.ok((s.threads_ended ?? 0) >= 1, `the dead thread ended (${s.threads_ended})`);
  t.equal((s.threads_started ?? 0) - (s.threads_ended ?? 0), 1, 'and was replaced: one live thread');
  t.notOk(lines.join('').includes(secret), 'the secret is in no log line');
});

t.test('JOB_TIMEOUT_S: the job gets 503 UPLIFT_JOB_TIMEOUT, its spinning thread is terminated and the CPU freed', async (t) => {
  const { app, headers, body } = await setup(t);
  app.jobTimeoutS = 1;
  const ended0 = app.pool.stats().threads_ended ?? 0;
  const pending = app.inject({ method: 'POST', url: URL, headers, payload: body(FAULT_SPIN) });
  await until(() => app.pool.stats().running === 1, 'the job reaches the pool');
  // CPU time of the whole process (all threads) over a short window while the worker spins...
  const c0 = process.cpuUsage();
  await sleep(300);
  const spinning = process.cpuUsage(c0);
  const res = await pending;
  t.equal(res.statusCode, 503);
  t.equal(res.json().code, 'UPLIFT_JOB_TIMEOUT');
  t.match(res.json().message, /JOB_TIMEOUT_S=1/);
  t.match(res.headers['retry-after'], /^\d+$/);
  await until(() => (app.pool.stats().threads_ended ?? 0) > ended0, 'the spinning thread is terminated');
  const live = () => (app.pool.stats().threads_started ?? 0) - (app.pool.stats().threads_ended ?? 0);
  await until(() => live() === 1, 'a replacement thread is up');
  // ...and over the same window after the deadline (replacement thread started): the terminated thread no
  // longer burns a core.
  const c1 = process.cpuUsage();
  await sleep(300);
  const after = process.cpuUsage(c1);
  const busy = (u: NodeJS.CpuUsage) => u.user + u.system;
  t.ok(busy(after) < busy(spinning) / 2, `CPU freed: ${busy(spinning)} us while spinning, ${busy(after)} us after`);
  const s = app.pool.stats();
  t.equal((s.threads_started ?? 0) - (s.threads_ended ?? 0), 1, 'the terminated thread was replaced');
  t.equal(s.running, 0, 'no job in flight');
  app.jobTimeoutS = 0;
  const next = await app.inject({ method: 'POST', url: URL, headers, payload: body(3) });
  t.equal(next.statusCode, 200, 'the next request succeeds');
});

t.test('a client that closes its socket mid-job cancels the job (thread terminated, logged)', async (t) => {
  const { app, headers, body, logs } = await setup(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  const ended0 = app.pool.stats().threads_ended ?? 0;
  const payload = body(FAULT_SPIN);
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let answered = '';
  sock.on('data', (d) => (answered += d.toString()));
  sock.on('error', () => undefined);
  const head = [`POST ${URL} HTTP/1.1`, 'Host: localhost', `Content-Length: ${Buffer.byteLength(payload)}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  sock.write(head + payload);
  await until(() => app.pool.stats().running === 1, 'the job reaches the pool');
  sock.destroy();
  await until(() => (app.pool.stats().threads_ended ?? 0) > ended0, 'the job thread is terminated after the client left');
  await until(() => app.pool.stats().running === 0, 'the job slot is freed');
  t.equal(answered, '', 'nothing was answered before the client left');
  await until(() => (app.pool.stats().threads_started ?? 0) - (app.pool.stats().threads_ended ?? 0) === 1, 'a replacement thread is up');
  t.ok(logs().some((l) => l.msg === 'client closed the connection: job cancelled'), 'the cancellation is logged');
  const s = app.pool.stats();
  t.equal((s.threads_started ?? 0) - (s.threads_ended ?? 0), 1, 'the thread was replaced');
  const next = await app.inject({ method: 'POST', url: URL, headers, payload: body(3) });
  t.equal(next.statusCode, 200, 'the next request succeeds');
});
