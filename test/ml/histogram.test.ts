import t from 'tap';
import { histogramLayout, buildHistogram, buildWeightedHistogram, subtractHistogram, SLOTS } from '../../src/ml/tree/histogram.js';
import { createRng } from '../../src/ml/rng.js';
import { synth } from './forest-helpers.js';

const data = synth({ n: 3000, seed: 5, numeric: [{ nBins: 256, missing: 0.1 }, { nBins: 7, missing: 0 }], categorical: [{ nBins: 30, missing: 0.3 }], tau: (b) => (b[0] > 100 ? 0.2 : 0) });
const layout = histogramLayout(data);

/** The obvious twin: per feature, per bin, count rows one by one. */
function brute(rows: ArrayLike<number>, weight?: ArrayLike<number>): number[] {
  const out: number[] = new Array(layout.totalBins * SLOTS).fill(0);
  data.features.forEach((f, j) => {
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      const w = weight ? weight[r] : 1;
      const at = (layout.offset[j] + f.bins[r]) * SLOTS + (data.treatment[r] === 1 ? 0 : 2);
      out[at] += w;
      out[at + 1] += w * data.outcome[r];
    }
  });
  return out;
}

t.test('histogram of a slice equals brute-force counting', async (t) => {
  const rng = createRng(1);
  const rows = Uint32Array.from({ length: 1000 }, () => rng.int(data.n));
  const h = new Float64Array(layout.totalBins * SLOTS).fill(7); // stale content must be cleared
  buildHistogram(layout, h, rows, 100, 600);
  t.same(Array.from(h), brute(rows.subarray(100, 700)));
});

t.test('larger child = parent - smaller child (subtraction) equals brute force', async (t) => {
  const rows = Uint32Array.from({ length: data.n }, (_, i) => i);
  const parent = new Float64Array(layout.totalBins * SLOTS);
  const small = new Float64Array(layout.totalBins * SLOTS);
  buildHistogram(layout, parent, rows, 0, rows.length);
  // split by numeric_0 bin <= 100 (left) vs > 100
  const left = Array.from(rows).filter((r) => data.features[0].bins[r] <= 100);
  const right = Array.from(rows).filter((r) => data.features[0].bins[r] > 100);
  buildHistogram(layout, small, Uint32Array.from(right), 0, right.length);
  subtractHistogram(parent, parent, small, parent.length);
  t.same(Array.from(parent), brute(left));
  t.same(Array.from(small), brute(right));
});

t.test('coarse layout: numeric features with many bins merged in equal-width groups of encoder bins', async (t) => {
  const coarse = histogramLayout(data, 64);
  t.same(Array.from(coarse.nBins), [64, 7, 30], 'only the 256-bin numeric feature is coarsened');
  t.equal(coarse.lastBin[1], null);
  const last = coarse.lastBin[0]!;
  t.equal(last[63], 255);
  const h = new Float64Array(coarse.totalBins * SLOTS);
  const rows = Uint32Array.from({ length: data.n }, (_, i) => i);
  buildHistogram(coarse, h, rows, 0, rows.length);
  // twin: coarse bin of encoder bin b is the smallest c with b <= last[c] (0 stays 0)
  const want = new Array(coarse.totalBins * SLOTS).fill(0);
  for (let r = 0; r < data.n; r++) {
    data.features.forEach((f, j) => {
      let b = f.bins[r];
      if (j === 0 && b > 0) { let c = 1; while (b > last[c]) c++; b = c; }
      const at = (coarse.offset[j] + b) * SLOTS + (data.treatment[r] === 1 ? 0 : 2);
      want[at] += 1;
      want[at + 1] += data.outcome[r];
    });
  }
  t.same(Array.from(h), want);
  // groups are contiguous and cover 1..255 with sizes 4 or 5
  for (let c = 1; c <= 63; c++) t.ok(last[c] - last[c - 1] >= 4 && last[c] - last[c - 1] <= 5 || c === 1);
});

t.test('weighted histogram equals the histogram of rows repeated weight times', async (t) => {
  const rng = createRng(9);
  const weight = new Uint8Array(data.n);
  const distinct: number[] = [];
  const repeated: number[] = [];
  for (let r = 0; r < data.n; r++) {
    const w = rng.int(4);
    weight[r] = w;
    if (w > 0) distinct.push(r);
    for (let c = 0; c < w; c++) repeated.push(r);
  }
  const a = new Float64Array(layout.totalBins * SLOTS);
  const b = new Float64Array(layout.totalBins * SLOTS);
  buildWeightedHistogram(layout, a, Uint32Array.from(distinct), 0, distinct.length, weight);
  buildHistogram(layout, b, Uint32Array.from(repeated), 0, repeated.length);
  t.same(Array.from(a), Array.from(b));
  t.same(Array.from(a), brute(distinct, weight));
});
