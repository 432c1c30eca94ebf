import t from 'tap';
import { capTrainRows, CV_MAX_TRAIN_ROWS, cvFoldRows } from '../../src/ml/pipeline.js';
import { foldRows, stratifiedFolds } from '../../src/ml/eval/folds.js';
import { createRng } from '../../src/ml/rng.js';

function data(n: number, seed: number): { t: Uint8Array; y: Uint8Array } {
  const rng = createRng(seed);
  const tt = new Uint8Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    tt[i] = rng.next() < 0.6 ? 1 : 0;
    y[i] = rng.next() < (tt[i] ? 0.3 : 0.1) ? 1 : 0;
  }
  return { t: tt, y };
}

t.test('capTrainRows: a stratified, ascending, deterministic subset of at most max rows', async (t) => {
  const n = 20_000;
  const { t: tr, y } = data(n, 3);
  // training rows: every row whose index is not a multiple of 3
  const train = Uint32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
  const max = 5_000;
  const out = capTrainRows(train, tr, y, max, 42);
  t.ok(out.length <= max && out.length >= max - 4, `about max rows (${out.length})`);
  const inTrain = new Set(train);
  let ascending = true;
  for (let j = 0; j < out.length; j++) {
    if (!inTrain.has(out[j])) t.fail(`row ${out[j]} is not a training row`);
    if (j > 0 && out[j] <= out[j - 1]) ascending = false;
  }
  t.ok(ascending, 'strictly ascending (no duplicates)');
  // each stratum's quota: floor(max * count / n)
  const count = (rows: Uint32Array, s: number): number => rows.reduce((a, r) => a + (tr[r] * 2 + y[r] === s ? 1 : 0), 0);
  for (let s = 0; s < 4; s++) t.equal(count(out, s), Math.floor((max * count(train, s)) / train.length), `stratum ${s} quota`);
  t.same(capTrainRows(train, tr, y, max, 42), out, 'same seed, same rows');
  t.not(capTrainRows(train, tr, y, max, 43).join(','), out.join(','), 'another seed, other rows');
  t.equal(capTrainRows(train, tr, y, train.length, 42), train, 'no cap when train fits');
  t.equal(capTrainRows(train, tr, y, 0, 42), train, 'max 0 = no cap');
});

t.test('cvFoldRows: the fold split itself below the cap; the test rows never change', async (t) => {
  const { t: tr, y } = data(3000, 5);
  const folds = stratifiedFolds(tr, y, 9, 3);
  const ds = { n: 3000, treatment: tr, outcome: y, features: [], report: { droppedConstant: [], pooled: [] } };
  for (let f = 0; f < 3; f++) {
    const a = cvFoldRows(ds, folds, f, 1);
    const b = foldRows(folds, f);
    t.same(a.train, b.train, `fold ${f}: train = all other folds (n << CV_MAX_TRAIN_ROWS = ${CV_MAX_TRAIN_ROWS})`);
    t.same(a.test, b.test, `fold ${f}: test rows`);
  }
});
