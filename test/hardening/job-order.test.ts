/**
 * The pool hands out queued tasks by job admission order (JobOrderQueue), so under load the oldest job
 * finishes first instead of every job's stages interleaving (with plain FIFO each job waits for every
 * other job's tasks at every stage).
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.js';
import { JobOrderQueue } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';
import { makeStore, testConfig } from '../routes/helpers.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sleep-worker.mjs');

t.test('JobOrderQueue: lowest priority first, push order among equals; remove', async (t) => {
  const q = new JobOrderQueue<{ name: string; p: number }>((x) => x.p);
  const items = [
    { name: 'b1', p: 2 },
    { name: 'a1', p: 1 },
    { name: 'c1', p: 3 },
    { name: 'b2', p: 2 },
    { name: 'ping', p: 0 },
    { name: 'a2', p: 1 },
  ];
  for (const it of items) q.push(it);
  t.equal(q.size, 6);
  t.equal(q.remove(items[2]), true);
  t.equal(q.remove(items[2]), false, 'removing twice reports false');
  const out: string[] = [];
  for (let x = q.shift(); x !== null; x = q.shift()) out.push(x.name);
  t.same(out, ['ping', 'a1', 'a2', 'b1', 'b2'], 'by job, push order within a job');
  t.equal(q.size, 0);
});

t.test('through a real Piscina pool: the first admitted job finishes before later jobs get past their first stage', async (t) => {
  const { store } = await makeStore();
  const app = await buildApp({ config: testConfig({ poolSize: 1, maxQueue: 4 }), keyStore: store, workerFile: WORKER, logger: false });
  t.teardown(() => app.close());
  await app.ready();
  await app.pool.whenReady;
  const order: string[] = [];
  // Each job: 3 stages of 2 parallel 15 ms tasks, a stage starting when the previous one is done.
  // Every task carries an AbortSignal, as the route's do (Piscina would queue such tasks FIFO itself).
  const job = (name: string) =>
    app.pool.job(async (run) => {
      const { signal } = new AbortController();
      for (let stage = 0; stage < 3; stage++) {
        await Promise.all(
          [0, 1].map((k) => run<{ tag: string }>({ kind: 'sleep', ms: 15, tag: `${name}${stage}.${k}` } as unknown as PoolTask, { signal }).then((r) => order.push(r.tag))),
        );
      }
      order.push(`${name} done`);
    });
  await Promise.all([job('A'), job('B'), job('C')]);
  t.equal(order.filter((x) => !x.endsWith('done')).length, 18, 'every task ran');
  const at = (x: string) => order.indexOf(x);
  t.ok(at('A done') < at('B done') && at('B done') < at('C done'), `jobs finish in admission order: ${order.join(' ')}`);
  // Plain FIFO would run A0 A0 B0 B0 C0 C0 A1 A1 B1 B1 C1 C1 A2 A2 ...: A done after 14 tasks.
  t.ok(at('A2.1') < at('C1.0') && at('A2.0') < at('C1.0'), 'A finished before C got past its first stage');
  t.ok(order.slice(0, at('A done')).filter((x) => x.startsWith('C')).length <= 2, 'at most a stage-gap task of C ran before A finished');
});

t.test('a task aborted while waiting in the queue never runs; a running one ends its thread', async (t) => {
  const { store } = await makeStore();
  const app = await buildApp({ config: testConfig({ poolSize: 1, maxQueue: 4 }), keyStore: store, workerFile: WORKER, logger: false });
  t.teardown(() => app.close());
  await app.ready();
  await app.pool.whenReady;
  const ran: string[] = [];
  const ac = new AbortController();
  const results = await app.pool.job(async (run) => {
    const sleep = (tag: string, ms: number, signal?: AbortSignal) =>
      run<{ tag: string }>({ kind: 'sleep', ms, tag } as unknown as PoolTask, { signal }).then(
        (r) => (ran.push(r.tag), 'ok'),
        (e: { code?: string }) => e.code,
      );
    const first = sleep('first', 300, ac.signal);
    const queued = sleep('queued', 10, ac.signal);
    const other = sleep('other', 10);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    return Promise.all([first, queued, other]);
  });
  t.same(results, ['UPLIFT_JOB_ABORTED', 'UPLIFT_JOB_ABORTED', 'ok'], 'both aborted, the unrelated task ran');
  t.same(ran, ['other'], 'the queued aborted task never ran');
  const s = app.pool.stats();
  t.equal(s.threads_ended, 1, 'the running aborted task ended its thread');
});
