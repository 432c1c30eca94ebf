import t from 'tap';
import fc from 'fast-check';
import { assignDeciles } from '../../src/ml/eval/deciles.js';
import { createRng } from '../../src/ml/rng.js';

interface Checker {
  equal(a: unknown, b: unknown, m?: string): unknown;
  ok(a: unknown, m?: string): unknown;
  same(a: unknown, b: unknown, m?: string): unknown;
}

/** Invariants every assignment must satisfy. */
function check(t: Checker, s: ArrayLike<number>, minSize = 15) {
  const { deciles, buckets } = assignDeciles(s, minSize);
  const n = s.length;
  // sizes sum to n and match per-row counts
  t.equal(buckets.reduce((a, b) => a + b.n, 0), n, 'sizes sum to n');
  const cnt = new Map<number, number>();
  for (let i = 0; i < n; i++) cnt.set(deciles[i], (cnt.get(deciles[i]) ?? 0) + 1);
  t.same([...cnt.keys()].sort((a, b) => a - b), buckets.map((b) => b.decile), 'listed deciles = used deciles');
  for (const b of buckets) t.equal(cnt.get(b.decile), b.n);
  // ascending numbers in 1..10
  for (let k = 0; k < buckets.length; k++) {
    t.ok(buckets[k].decile >= 1 && buckets[k].decile <= 10);
    if (k > 0) t.ok(buckets[k].decile > buckets[k - 1].decile);
  }
  // ties never straddle; monotone in the score
  const byScore = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const d = byScore.get(s[i]);
    if (d !== undefined) t.equal(d, deciles[i], 'tie block in one decile');
    byScore.set(s[i], deciles[i]);
  }
  const order = [...Array(n).keys()].sort((a, b) => s[a] - s[b]);
  for (let k = 1; k < n; k++) t.ok(deciles[order[k]] >= deciles[order[k - 1]]);
  // minimum size unless a single bucket
  if (buckets.length > 1) for (const b of buckets) t.ok(b.n >= minSize, `bucket ${b.decile} has ${b.n}`);
  return { deciles, buckets };
}

t.test('exactly 200 distinct scores -> 10 x 20 by rank', async (t) => {
  const rng = createRng(3);
  const s = Float64Array.from({ length: 200 }, () => rng.next());
  const { deciles, buckets } = check(t, s);
  t.same(buckets, Array.from({ length: 10 }, (_, k) => ({ decile: k + 1, n: 20 })));
  const order = [...Array(200).keys()].sort((a, b) => s[a] - s[b]);
  order.forEach((row, rank) => t.equal(deciles[row], Math.floor(rank / 20) + 1));
});

t.test('n not a multiple of 10 -> sizes differ by at most 1', async (t) => {
  const s = Float64Array.from({ length: 203 }, (_, i) => (i * 37) % 203);
  const { buckets } = check(t, s);
  t.equal(buckets.length, 10);
  t.same(buckets.map((b) => b.n), [20, 21, 20, 20, 21, 20, 20, 20, 21, 20]);
});

t.test('all scores equal -> one bucket holding everyone', async (t) => {
  for (const n of [350, 351, 200]) {
    const s = new Float64Array(n).fill(0.0123);
    const { deciles, buckets } = check(t, s);
    t.equal(buckets.length, 1);
    t.equal(buckets[0].n, n);
    // boundaries 1..4 snap to the lower edge (0), 5..9 to the upper (n; 5 at equal distance): decile 5
    t.equal(buckets[0].decile, 5);
    t.ok(deciles.every((d) => d === 5));
  }
});

t.test('hand case: a 50-row tie block and a small bucket merged', async (t) => {
  // 200 rows; sorted positions 30..79 share one score.
  const s = Float64Array.from({ length: 200 }, (_, i) => (i >= 30 && i < 80 ? 30 : i));
  // ideal boundaries 20,40,60,80,...: 40 -> 30 (nearer edge), 60 -> 80; sizes 20,10,50,0,20,...
  // bucket 2 (10 rows) merges into bucket 1 (20, smaller neighbour than 50) and takes number 1.
  const { buckets, deciles } = check(t, s);
  t.same(buckets, [
    { decile: 1, n: 30 }, { decile: 3, n: 50 }, { decile: 5, n: 20 }, { decile: 6, n: 20 },
    { decile: 7, n: 20 }, { decile: 8, n: 20 }, { decile: 9, n: 20 }, { decile: 10, n: 20 },
  ]);
  t.equal(deciles[35], 3);
  t.equal(deciles[25], 1);
});

t.test('heavy ties (random few levels) keep all invariants', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 200, max: 700 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 1e9 }),
      (n, levels, seed) => {
        const rng = createRng(seed);
        const skew = rng.next();
        const s = Float64Array.from({ length: n }, () => Math.floor(Math.pow(rng.next(), 1 + 4 * skew) * levels) / 100);
        const sub = { ok: 0, bad: [] as string[] };
        const tt: Checker = {
          equal: (a: unknown, b: unknown, m?: string) => (a === b ? sub.ok++ : sub.bad.push(`${m}: ${a} != ${b}`)),
          ok: (a: unknown, m?: string) => (a ? sub.ok++ : sub.bad.push(`${m}`)),
          same: (a: unknown, b: unknown, m?: string) =>
            JSON.stringify(a) === JSON.stringify(b) ? sub.ok++ : sub.bad.push(`${m}`),
        };
        check(tt, s);
        if (sub.bad.length) throw new Error(sub.bad.slice(0, 3).join('; '));
      },
    ),
    { numRuns: 150, seed: 17 },
  );
  t.pass('150 random heavy-tie cases');
});

t.test('tiny inputs', async (t) => {
  t.same(assignDeciles(new Float64Array(0)).buckets, []);
  const r = assignDeciles(Float64Array.from({ length: 40 }, (_, i) => i));
  t.equal(r.buckets.reduce((a, b) => a + b.n, 0), 40);
  t.ok(r.buckets.every((b) => b.n >= 15) || r.buckets.length === 1);
});
