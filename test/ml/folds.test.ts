import t from 'tap';
import { stratifiedFolds, foldRows } from '../../src/ml/eval/folds.js';
import { createRng } from '../../src/ml/rng.js';

function makeData(n: number, seed: number) {
  const rng = createRng(seed);
  const tr = new Uint8Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) { tr[i] = rng.next() < 0.3 ? 1 : 0; y[i] = rng.next() < 0.15 ? 1 : 0; }
  return { tr, y };
}

t.test('stratified: each stratum split within floor/ceil, fold sizes within 1', async (t) => {
  for (const n of [200, 1001, 5000]) {
    const { tr, y } = makeData(n, n);
    const f = stratifiedFolds(tr, y, 11);
    const cnt = Array.from({ length: 4 }, () => [0, 0, 0]);
    const size = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      t.ok(f[i] < 3);
      cnt[tr[i] * 2 + y[i]][f[i]]++;
      size[f[i]]++;
    }
    for (const c of cnt) t.ok(Math.max(...c) - Math.min(...c) <= 1, `stratum counts ${c}`);
    t.ok(Math.max(...size) - Math.min(...size) <= 1, `fold sizes ${size}`);
  }
});

t.test('deterministic for a seed; a different seed gives a different split', async (t) => {
  const { tr, y } = makeData(3000, 1);
  const a = stratifiedFolds(tr, y, 99), b = stratifiedFolds(tr, y, 99), c = stratifiedFolds(tr, y, 100);
  t.same(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== c[i]) diff++;
  t.ok(diff > 1000, `differs in ${diff} rows`);
});

t.test('shuffled: not a round-robin of the input order', async (t) => {
  const n = 900;
  const tr = new Uint8Array(n), y = new Uint8Array(n); // one stratum
  const f = stratifiedFolds(tr, y, 3);
  let same = 0;
  for (let i = 0; i < n; i++) if (f[i] === i % 3) same++;
  t.ok(same < 450, `${same} rows follow i % 3`);
});

t.test('foldRows partitions the rows', async (t) => {
  const { tr, y } = makeData(500, 2);
  const f = stratifiedFolds(tr, y, 5, 4);
  const seen = new Uint8Array(500);
  for (let k = 0; k < 4; k++) {
    const { train, test } = foldRows(f, k);
    t.equal(train.length + test.length, 500);
    for (const r of test) { t.equal(f[r], k); seen[r]++; }
    for (const r of train) t.not(f[r], k);
  }
  t.ok(seen.every((v) => v === 1), 'every row is a test row exactly once');
});
