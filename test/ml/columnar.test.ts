import t from 'tap';
import { toRawDataset } from '../../src/ml/data/columnar.js';

t.test('union of keys in first-seen order, missing values, numeric vs categorical', async (t) => {
  const ds = toRawDataset([
    { treatment: 1, outcome: 0, features: { a: 1, b: 'x' } },
    { treatment: 0, outcome: 1, features: { b: 'y', c: 2.5 } },
    { treatment: 1, outcome: 1, features: { a: null, c: undefined, d: 3 } },
    { treatment: 0, outcome: 0, features: {} },
  ]);
  t.equal(ds.n, 4);
  t.same(Array.from(ds.treatment), [1, 0, 1, 0]);
  t.same(Array.from(ds.outcome), [0, 1, 1, 0]);
  t.same(ds.features.map((f) => f.name), ['a', 'b', 'c', 'd']);
  const [a, b, c, d] = ds.features;
  t.equal(a.kind, 'numeric');
  if (a.kind === 'numeric') t.same(Array.from(a.values).map((v) => (Number.isNaN(v) ? null : v)), [1, null, null, null]);
  t.equal(b.kind, 'categorical');
  if (b.kind === 'categorical') {
    t.same(b.levels, ['x', 'y']);
    t.same(Array.from(b.codes), [0, 1, -1, -1]);
  }
  t.equal(c.kind, 'numeric');
  if (c.kind === 'numeric') t.same(Array.from(c.values).map((v) => (Number.isNaN(v) ? null : v)), [null, 2.5, null, null]);
  t.equal(d.kind, 'numeric');
});

t.test('mixed column becomes categorical, numbers as String(v), in first-appearance order', async (t) => {
  const ds = toRawDataset([
    { treatment: 0, outcome: 0, features: { m: 10 } },
    { treatment: 0, outcome: 0, features: { m: 2.5 } },
    { treatment: 0, outcome: 0, features: {} },
    { treatment: 0, outcome: 0, features: { m: 'ten' } },
    { treatment: 0, outcome: 0, features: { m: 10 } },
    { treatment: 0, outcome: 0, features: { m: true } },
  ]);
  const m = ds.features[0];
  t.equal(m.kind, 'categorical');
  if (m.kind !== 'categorical') return;
  t.same(m.levels, ['10', '2.5', 'ten', 'true']);
  t.same(Array.from(m.codes), [0, 1, -1, 2, 0, 3]);
});

t.test('non-finite numbers make a feature categorical', async (t) => {
  const ds = toRawDataset([
    { treatment: 0, outcome: 0, features: { x: 1 } },
    { treatment: 0, outcome: 0, features: { x: Infinity } },
  ]);
  t.equal(ds.features[0].kind, 'categorical');
});

t.test('__proto__ and constructor are ordinary feature names', async (t) => {
  const rows = JSON.parse(
    '[{"treatment":1,"outcome":1,"features":{"__proto__":5,"constructor":"a","toString":1}},' +
      '{"treatment":0,"outcome":0,"features":{"constructor":"b","__proto__":7}}]',
  );
  const ds = toRawDataset(rows);
  t.same(ds.features.map((f) => f.name), ['__proto__', 'constructor', 'toString']);
  const p = ds.features[0];
  t.equal(p.kind, 'numeric');
  if (p.kind === 'numeric') t.same(Array.from(p.values), [5, 7]);
  const c = ds.features[1];
  if (c.kind === 'categorical') t.same(Array.from(c.codes), [0, 1]);
  else t.fail('constructor should be categorical');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(Object.getPrototypeOf({}), Object.prototype);
});

t.test('inherited keys are ignored', async (t) => {
  const proto = { inherited: 1 };
  const f = Object.create(proto) as Record<string, unknown>;
  f.own = 2;
  const ds = toRawDataset([{ treatment: 0, outcome: 0, features: f }, { treatment: 0, outcome: 0, features: { own: 3 } }]);
  t.same(ds.features.map((x) => x.name), ['own']);
});

t.test('changing key order across rows maps to the right columns', async (t) => {
  const rows = [];
  for (let i = 0; i < 50; i++) {
    const feats: Record<string, unknown> = {};
    const keys = i % 3 === 0 ? ['a', 'b', 'c'] : i % 3 === 1 ? ['c', 'a'] : ['b', 'c', 'a', 'e'];
    for (const k of keys) feats[k] = k.charCodeAt(0) * 1000 + i;
    rows.push({ treatment: i & 1, outcome: 0, features: feats });
  }
  const ds = toRawDataset(rows);
  for (const f of ds.features) {
    if (f.kind !== 'numeric') { t.fail('numeric expected'); continue; }
    for (let i = 0; i < 50; i++) {
      const v = f.values[i];
      if (!Number.isNaN(v)) t.equal(v, f.name.charCodeAt(0) * 1000 + i);
    }
  }
  const counts = ds.features.map((f) => (f.kind === 'numeric' ? f.values.filter((v) => !Number.isNaN(v)).length : -1));
  t.same(ds.features.map((f) => f.name), ['a', 'b', 'c', 'e']);
  t.same(counts, [50, 33, 50, 16]);
});
