import t from 'tap';
import type { JobRunner } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';
import { makeApp } from './helpers.js';

/** A runner whose jobs finish only when the test says so. */
function gatedRunner(size: number) {
  const gates: Array<() => void> = [];
  let pingGate: (() => void) | null = null;
  const pingDone = new Promise<void>((r) => (pingGate = r));
  const runner: JobRunner & { release(): void; releasePings(): void; pending(): number } = {
    size,
    queueSize: 0,
    async run(task: PoolTask) {
      if (task.kind === 'ping') {
        await pingDone;
        return { kind: 'pong', threadId: 0 };
      }
      await new Promise<void>((r) => gates.push(r));
      return { ok: true };
    },
    async close() {},
    release() {
      gates.shift()?.();
    },
    releasePings() {
      pingGate?.();
    },
    pending() {
      return gates.length;
    },
  };
  return runner;
}

const job = { kind: 'pipeline' } as unknown as PoolTask;
const tick = () => new Promise((r) => setImmediate(r));

t.test('admission: POOL_SIZE running + MAX_QUEUE waiting, the next gets 503 with Retry-After', async (t) => {
  const runner = gatedRunner(1);
  runner.releasePings();
  const { app } = await makeApp({ runner, config: { poolSize: 1, maxQueue: 1 } });
  t.teardown(() => app.close());
  const p1 = app.pool.run(job);
  const p2 = app.pool.run(job);
  await tick();
  t.equal(app.pool.stats().running, 1);
  t.equal(app.pool.stats().queued, 1);
  const refused = await app.pool.run(job).then(
    () => null,
    (e) => e,
  );
  t.ok(refused, 'third job refused');
  t.equal(refused.code, 'UPLIFT_OVERLOADED');
  t.equal(refused.statusCode, 503);
  t.ok(Number.isInteger(refused.retryAfter) && refused.retryAfter >= 1, 'Retry-After >= 1 s');
  runner.release();
  await p1;
  const p3 = app.pool.run(job);
  await tick();
  t.equal(app.pool.stats().queued, 1, 'a freed slot admits a new job');
  runner.release();
  runner.release();
  await Promise.all([p2, p3]);
  t.equal(app.pool.stats().completed, 3);
});

t.test('worker failures are a generic 500, aborts map to UPLIFT_JOB_ABORTED', async (t) => {
  const runner: JobRunner = {
    size: 1,
    queueSize: 0,
    async run(task: PoolTask, o) {
      if (task.kind === 'ping') return { kind: 'pong', threadId: 0 };
      if (o?.signal) {
        return await new Promise((_r, rej) => o.signal!.addEventListener('abort', () => rej(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      }
      throw new Error('secret internal detail: worker exploded');
    },
    async close() {},
  };
  const { app } = await makeApp({ runner });
  t.teardown(() => app.close());
  const e1 = await app.pool.run(job).catch((e) => e);
  t.equal(e1.code, 'UPLIFT_INTERNAL');
  t.notMatch(e1.message, /exploded/, 'no internal detail in the message');
  const ac = new AbortController();
  const p = app.pool.run(job, { signal: ac.signal }).catch((e) => e);
  ac.abort();
  t.equal((await p).code, 'UPLIFT_JOB_ABORTED');
});

t.test('/ready: 503 before warm-up, 200 after, 503 once closing', async (t) => {
  const { buildApp } = await import('../../src/app.js');
  const { makeStore, testConfig } = await import('./helpers.js');
  const runner = gatedRunner(2);
  const { store } = await makeStore();
  const app = await buildApp({ config: testConfig({ poolSize: 2 }), keyStore: store, runner, logger: false });
  await app.ready();
  let res = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(res.statusCode, 503);
  t.equal(res.json().code, 'UPLIFT_NOT_READY');
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health is 200 regardless');
  runner.releasePings();
  await app.pool.whenReady;
  res = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(res.statusCode, 200);
  t.equal(res.json().pool.size, 2);
  await app.close();
  t.equal(app.pool.ready, false, 'not ready after close');
});

t.test('JOB_TIMEOUT_S: a job past its deadline is cancelled (its tasks aborted) and answered 503 UPLIFT_JOB_TIMEOUT', async (t) => {
  const { syntheticRows } = await import('./helpers.js');
  let aborted = 0;
  const runner: JobRunner = {
    size: 1,
    queueSize: 0,
    async run(task: PoolTask, o) {
      if (task.kind === 'ping') return { kind: 'pong', threadId: 0 };
      // Never finishes on its own; only the abort signal ends it (as Piscina terminating the thread).
      return await new Promise((_r, rej) =>
        o?.signal?.addEventListener('abort', () => {
          aborted++;
          rej(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        }),
      );
    },
    async close() {},
  };
  const { app, headers } = await makeApp({ runner, config: { jobTimeoutS: 1 } });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'POST', url: '/api/v1/ai/uplift_model', headers, payload: JSON.stringify({ rows: syntheticRows(250) }) });
  t.equal(res.statusCode, 503);
  t.equal(res.json().code, 'UPLIFT_JOB_TIMEOUT');
  t.match(res.json().message, /JOB_TIMEOUT_S=1/);
  t.equal(aborted, 1, 'the running task was aborted');
  t.equal(app.pool.stats().running, 0, 'the job slot is free again');
});

t.test('a full pool refuses a request before its body is parsed', async (t) => {
  const { syntheticRows } = await import('./helpers.js');
  const runner = gatedRunner(1);
  runner.releasePings();
  const { app, headers } = await makeApp({ runner, config: { poolSize: 1, maxQueue: 0 } });
  t.teardown(() => app.close());
  const holder = app.pool.run(job);
  await tick();
  t.equal(app.pool.full, true);
  const res = await app.inject({ method: 'POST', url: '/api/v1/ai/uplift_model', headers, payload: '{"this is": not even JSON' });
  t.equal(res.statusCode, 503, '503, not 400: the body was never parsed');
  t.equal(res.json().code, 'UPLIFT_OVERLOADED');
  t.match(res.headers['retry-after'], /^\d+$/);
  runner.release();
  await holder;
  const ok = await app.inject({ method: 'POST', url: '/api/v1/ai/uplift_model', headers, payload: JSON.stringify({ rows: syntheticRows(10) }) });
  t.equal(ok.statusCode, 422, 'with a free slot the same route parses again');
});

t.test('a failing task fails its job with a generic 500 and cancels the sibling tasks; the next job runs', async (t) => {
  const { syntheticRows } = await import('./helpers.js');
  let aborted = 0;
  let failNext = true;
  const real = await (await import('./helpers.js')).inProcessRunner(2);
  const runner: JobRunner = {
    size: 2,
    queueSize: 0,
    async run(task: PoolTask, o) {
      if (task.kind === 'cv' && failNext) {
        if (task.configIndex === 0 && task.fold === 0) {
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('worker exploded (test)');
        }
        return await new Promise((_r, rej) =>
          o?.signal?.addEventListener('abort', () => {
            aborted++;
            rej(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          }),
        );
      }
      return real.run(task, o);
    },
    async close() {},
  };
  const { app, headers } = await makeApp({ runner, config: { poolSize: 2 } });
  t.teardown(() => app.close());
  const payload = JSON.stringify({ rows: syntheticRows(400) });
  const res = await app.inject({ method: 'POST', url: '/api/v1/ai/uplift_model', headers, payload });
  t.equal(res.statusCode, 500);
  t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode']);
  t.equal(res.json().code, 'UPLIFT_INTERNAL');
  t.notMatch(res.body, /exploded/, 'no internal detail in the answer');
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'request id for the log');
  t.ok(aborted > 0, `sibling tasks cancelled (${aborted})`);
  failNext = false;
  const next = await app.inject({ method: 'POST', url: '/api/v1/ai/uplift_model', headers, payload });
  t.equal(next.statusCode, 200, 'the next request succeeds');
});
