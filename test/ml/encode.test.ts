import t from 'tap';
import { encode, quantileEdges, binOf } from '../../src/ml/data/encode.js';
import type { RawDataset, RawFeature } from '../../src/ml/types.js';
import { createRng } from '../../src/ml/rng.js';

function ds(features: RawFeature[], n: number): RawDataset {
  return { n, treatment: new Uint8Array(n), outcome: new Uint8Array(n), features };
}
const num = (name: string, vals: number[]): RawFeature => ({ name, kind: 'numeric', values: Float64Array.from(vals) });
function cat(name: string, vals: (string | null)[]): RawFeature {
  const levels: string[] = [];
  const idx = new Map<string, number>();
  const codes = new Int32Array(vals.length);
  vals.forEach((v, i) => {
    if (v === null) { codes[i] = -1; return; }
    let c = idx.get(v);
    if (c === undefined) { c = levels.length; levels.push(v); idx.set(v, c); }
    codes[i] = c;
  });
  return { name, kind: 'categorical', levels, codes };
}

t.test('all-missing and constant features are dropped', async (t) => {
  const b = encode(ds([
    num('allnan', [NaN, NaN, NaN]),
    num('const', [2, NaN, 2]),
    cat('constcat', ['a', 'a', null]),
    cat('allmiss', [null, null, null]),
    num('ok', [1, 2, 3]),
  ], 3));
  t.same(b.features.map((f) => f.name), ['ok']);
  t.same(b.report.droppedConstant, ['allnan', 'const', 'constcat', 'allmiss']);
  t.same(b.report.droppedAllRare, []);
});

t.test('few distinct numeric values: one bin per value, missing in bin 0', async (t) => {
  const b = encode(ds([num('x', [5, 1, NaN, 3, 5, 1])], 6));
  const f = b.features[0];
  t.equal(f.nBins, 4);
  t.same(Array.from(f.upper!), [1, 3]);
  t.same(Array.from(f.bins), [3, 1, 0, 2, 3, 1]);
});

t.test('255 distinct values -> 255 value bins; 256+ -> quantile bins, <= 255, balanced', async (t) => {
  const v255 = Array.from({ length: 255 * 3 }, (_, i) => (i % 255) * 0.5);
  const b1 = encode(ds([num('x', v255)], v255.length)).features[0];
  t.equal(b1.nBins, 256);
  for (let i = 0; i < v255.length; i++) t.equal(b1.bins[i], (i % 255) + 1, 'value bin');
  const rng = createRng(3);
  const n = 10000;
  const vals = Array.from({ length: n }, () => rng.next() * 100);
  const b2 = encode(ds([num('y', vals)], n)).features[0];
  t.ok(b2.nBins <= 256 && b2.nBins >= 250, `nBins ${b2.nBins}`);
  const counts = new Array(b2.nBins).fill(0);
  for (let i = 0; i < n; i++) counts[b2.bins[i]]++;
  t.equal(counts[0], 0);
  const present = counts.slice(1);
  t.ok(Math.min(...present) >= 30 && Math.max(...present) <= 50, `bin sizes ${Math.min(...present)}..${Math.max(...present)}`);
  // contract: value goes to first bin b >= 1 with v <= upper[b-1], last bin open-ended
  const up = b2.upper!;
  for (let i = 0; i < n; i++) {
    let b = 1;
    while (b - 1 < up.length && !(vals[i] <= up[b - 1])) b++;
    if (b2.bins[i] !== b) { t.fail(`row ${i}: ${b2.bins[i]} vs ${b}`); break; }
  }
  // edges strictly increasing, last bin non-empty
  for (let k = 1; k < up.length; k++) t.ok(up[k] > up[k - 1]);
  t.ok(counts[b2.nBins - 1] > 0);
  // deterministic
  const b3 = encode(ds([num('y', vals)], n)).features[0];
  t.same(Array.from(b3.bins), Array.from(b2.bins));
});

t.test('256 distinct values with heavy ties still produce valid bins', async (t) => {
  const vals: number[] = [];
  for (let i = 0; i < 5000; i++) vals.push(0);
  for (let i = 0; i < 256; i++) vals.push(i + 1);
  const f = encode(ds([num('z', vals)], vals.length)).features[0];
  t.ok(f.nBins <= 256 && f.nBins >= 3);
  t.equal(f.bins[0], 1, 'the mass at 0 is its own first bin');
  t.ok(f.bins[vals.length - 1] === f.nBins - 1);
});

t.test('quantileEdges/binOf helpers agree with the linear definition', async (t) => {
  const sorted = Float64Array.from([1, 1, 2, 2, 2, 3, 9]);
  const e = quantileEdges(sorted, 2);
  t.same(Array.from(e), [2]);
  t.equal(binOf(e, 1), 1);
  t.equal(binOf(e, 2), 1);
  t.equal(binOf(e, 2.1), 2);
});

t.test('categorical: rare levels pooled into other, most frequent first', async (t) => {
  const vals: (string | null)[] = [];
  for (let i = 0; i < 5; i++) vals.push('b');
  for (let i = 0; i < 7; i++) vals.push('a');
  vals.push('r1', 'r2', 'r2', null);
  const b = encode(ds([cat('c', vals)], vals.length), { rareMin: 5 });
  const f = b.features[0];
  t.same(f.labels, ['(missing)', 'a', 'b', '(other)']);
  t.equal(f.otherBin, 3);
  t.equal(f.nBins, 4);
  t.same(Array.from(f.bins.slice(0, 5)), [2, 2, 2, 2, 2]);
  t.same(Array.from(f.bins.slice(5, 12)), [1, 1, 1, 1, 1, 1, 1]);
  t.same(Array.from(f.bins.slice(12)), [3, 3, 3, 0]);
  t.same(b.report.pooled, [{ feature: 'c', levels: 2, rows: 3 }]);
});

t.test('categorical without rare levels has no other bin; default rareMin is 100', async (t) => {
  const vals: string[] = [];
  for (let i = 0; i < 300; i++) vals.push(i % 3 === 0 ? 'x' : 'y');
  vals.push('rare');
  const b = encode(ds([cat('c', vals.slice(0, 300))], 300));
  t.equal(b.features[0].otherBin, undefined);
  t.equal(b.features[0].nBins, 3);
  t.same(b.report.pooled, []);
  const b2 = encode(ds([cat('c', vals)], 301));
  t.equal(b2.features[0].otherBin, 3);
  t.same(b2.report.pooled, [{ feature: 'c', levels: 1, rows: 1 }]);
});

t.test('categorical with more than 255 frequent levels is capped at 256 bins', async (t) => {
  const vals: string[] = [];
  for (let l = 0; l < 300; l++) for (let k = 0; k < 2 + (l % 5); k++) vals.push('L' + l);
  const b = encode(ds([cat('c', vals)], vals.length), { rareMin: 1 });
  const f = b.features[0];
  t.equal(f.nBins, 256);
  t.equal(f.otherBin, 255);
  t.equal(b.report.pooled[0].levels, 300 - 254);
  const maxL = encode(ds([cat('c', vals)], vals.length), { rareMin: 1, maxLevels: 10 }).features[0];
  t.equal(maxL.nBins, 12);
  // kept = the 254 most frequent levels, ties by first appearance (obvious twin: sort all levels)
  const cnt = new Map<string, number>();
  const first = new Map<string, number>();
  vals.forEach((v, i) => { cnt.set(v, (cnt.get(v) ?? 0) + 1); if (!first.has(v)) first.set(v, i); });
  const expected = [...cnt.keys()].sort((a, b) => cnt.get(b)! - cnt.get(a)! || first.get(a)! - first.get(b)!).slice(0, 254);
  t.same(f.labels!.slice(1, 255), expected);
});

t.test('all levels rare -> one bin -> dropped as constant', async (t) => {
  const b = encode(ds([cat('c', ['a', 'b', 'c', null])], 4));
  t.same(b.features, []);
  t.same(b.report.droppedConstant, ['c']);
  t.same(b.report.droppedAllRare, ['c'], 'several levels, all rare: recorded as such, not as a single value');
  t.equal(b.report.rareMin, 100);
  // a single-valued categorical is constant, not "all rare"
  const one = encode(ds([cat('k', ['a', 'a', null, 'a'])], 4));
  t.same(one.report.droppedConstant, ['k']);
  t.same(one.report.droppedAllRare, []);
});
