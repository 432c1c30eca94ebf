/**
 * The pool hands out queued tasks by job admission order (JobOrderQueue), so under load the oldest job
 * finishes first instead of every job's stages interleaving (with plain FIFO each job waits for every
 * other job's tasks at every stage).
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { buildApp } from '../../src/app.js';
import { JobOrderQueue } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';
import { makeStore, testConfig } from '../routes/helpers.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sleep-worker.mjs');

t.test('JobOrderQueue: lowest priority first, push order among equals; remove; unshift', async (t) => {
  const q = new JobOrderQueue();
  const task = (name: string, priority?: number) => ({ name, [Piscina.queueOptionsSymbol]: priority === undefined ? null : { priority } }) as never;
  const items = [task('b1', 2), task('a1', 1), task('c1', 3), task('b2', 2), task('ping'), task('a2', 1)];
  for (const it of items) q.push(it);
  t.equal(q.size, 6);
  q.remove(items[2]);
  q.unshift(task('a0', 1));
  const out: string[] = [];
  for (let x = q.shift(); x !== null; x = q.shift()) out.push((x as unknown as { name: string }).name);
  t.same(out, ['ping', 'a0', 'a1', 'a2', 'b1', 'b2'], 'untagged (0) first, then by job, push order within a job');
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
  const job = (name: string) =>
    app.pool.job(async (run) => {
      for (let stage = 0; stage < 3; stage++) {
        await Promise.all(
          [0, 1].map((k) => run<{ tag: string }>({ kind: 'sleep', ms: 15, tag: `${name}${stage}.${k}` } as unknown as PoolTask).then((r) => order.push(r.tag))),
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
