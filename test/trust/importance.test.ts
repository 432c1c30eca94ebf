import t from 'tap';
import { heldOutSplitImportance, normalizeImportance } from '../../src/ml/eval/importance.js';
import { FlatTreeBuilder, goesLeft, type FlatTree } from '../../src/ml/tree/flat.js';
import { createRng } from '../../src/ml/rng.js';
import type { BinnedDataset } from '../../src/ml/types.js';

/** A binned dataset straight from bin columns (bin 0 = missing, as in encode). */
function dataset(t: number[], y: number[], cols: number[][]): BinnedDataset {
  return {
    n: t.length,
    treatment: Uint8Array.from(t),
    outcome: Uint8Array.from(y),
    features: cols.map((c, j) => ({ name: `f${j}`, kind: 'numeric' as const, nBins: 256, bins: Uint8Array.from(c) })),
    report: { droppedConstant: [], pooled: [] },
  };
}

/** Slow, obvious twin: for every split, list the rows reaching each child by walking from the root. */
function slowImportance(trees: FlatTree[], data: BinnedDataset, rows: number[], pred: number[]): number[] {
  const imp = new Array(data.features.length).fill(0);
  for (const tree of trees) {
    const reaches = (row: number, target: number): boolean => {
      let node = 0;
      for (;;) {
        if (node === target) return true;
        if (tree.feature[node] < 0) return false;
        const bin = data.features[tree.feature[node]].bins[row];
        node = goesLeft(tree, node, bin) ? tree.left[node] : tree.right[node];
      }
    };
    for (let j = 0; j < tree.feature.length; j++) {
      if (tree.feature[j] < 0) continue;
      const side = (child: number) => {
        const ks = rows.map((r, k) => [r, k]).filter(([r]) => reaches(r, child));
        const tr = ks.filter(([r]) => data.treatment[r] === 1);
        const co = ks.filter(([r]) => data.treatment[r] === 0);
        const rate = (g: number[][]) => g.reduce((s, [r]) => s + data.outcome[r], 0) / g.length;
        return { n: ks.length, nt: tr.length, nc: co.length, d: rate(tr) - rate(co), f: ks.reduce((s, [, k]) => s + pred[k], 0) / ks.length };
      };
      const L = side(tree.left[j]);
      const R = side(tree.right[j]);
      if (L.nt === 0 || L.nc === 0 || R.nt === 0 || R.nc === 0) continue;
      imp[tree.feature[j]] += ((L.n * R.n) / (L.n + R.n)) * (L.f - R.f) * (L.d - R.d);
    }
  }
  return imp;
}

t.test('hand-computed: one split', async (t) => {
  // feature 0: bins 1 (left) / 2 (right). Left: treated 2 rows (1 conversion), control 2 (0); right:
  // treated 2 (1), control 2 (1). d_L = 0.5, d_R = 0. Predictions: 0.3 on the left, 0.1 on the right.
  const tr = [1, 1, 0, 0, 1, 1, 0, 0];
  const y = [1, 0, 0, 0, 1, 0, 1, 0];
  const x = [1, 1, 1, 1, 2, 2, 2, 2];
  const data = dataset(tr, y, [x, [1, 2, 1, 2, 1, 2, 1, 2]]);
  const b = new FlatTreeBuilder();
  const root = b.addLeaf(0);
  const l = b.addLeaf(0);
  const r = b.addLeaf(0);
  b.setSplit(root, 0, [1], l, r);
  const tree = b.finish();
  const rows = Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  const pred = Float64Array.from([0.3, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.1]);
  const imp = heldOutSplitImportance([tree], data, rows, pred);
  // n_L n_R / n = 4 * 4 / 8 = 2; (f_L - f_R) = 0.2; (d_L - d_R) = 0.5 -> 0.2
  t.ok(Math.abs(imp[0] - 0.2) < 1e-12, `importance ${imp[0]}`);
  t.equal(imp[1], 0, 'unused feature: 0');
  // predictions that move against the observed difference give a negative contribution
  const neg = heldOutSplitImportance([tree], data, rows, Float64Array.from([0.1, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.3]));
  t.ok(Math.abs(neg[0] + 0.2) < 1e-12, `against the data: ${neg[0]}`);
  t.same([...normalizeImportance(neg)], [0, 0], 'negative totals normalise to 0');
  // a child without control rows contributes nothing
  const only = heldOutSplitImportance([tree], data, Uint32Array.from([0, 1, 2, 4, 5]), Float64Array.from([0.3, 0.3, 0.3, 0.1, 0.1]));
  t.equal(only[0], 0, 'right child has no control row: skipped');
  // accumulates into `out`
  const out = Float64Array.from([1, 2]);
  heldOutSplitImportance([tree], data, rows, pred, out);
  t.ok(Math.abs(out[0] - 1.2) < 1e-12 && out[1] === 2, 'adds to out');
  t.throws(() => heldOutSplitImportance([tree], data, rows, pred.subarray(1)), 'one prediction per row');
});

t.test('matches the slow twin on random trees and data', async (t) => {
  const rng = createRng(5);
  for (let rep = 0; rep < 6; rep++) {
    const n = 300;
    const F = 3;
    const cols = Array.from({ length: F }, () => Array.from({ length: n }, () => rng.int(6)));
    const tr = Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
    const y = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const data = dataset(tr, y, cols);
    const trees: FlatTree[] = [];
    for (let k = 0; k < 3; k++) {
      const b = new FlatTreeBuilder();
      const grow = (node: number, depth: number) => {
        if (depth >= 3 || rng.next() < 0.2) return;
        const l = b.addLeaf(rng.next() - 0.5);
        const r = b.addLeaf(rng.next() - 0.5);
        const bins = [0, 1, 2, 3, 4, 5].filter(() => rng.next() < 0.5);
        b.setSplit(node, rng.int(F), bins, l, r);
        grow(l, depth + 1);
        grow(r, depth + 1);
      };
      grow(b.addLeaf(0), 0);
      trees.push(b.finish());
    }
    const rows = Array.from({ length: n }, (_, i) => i).filter(() => rng.next() < 0.6);
    const pred = rows.map(() => rng.next() * 0.2 - 0.1);
    const fast = heldOutSplitImportance(trees, data, Uint32Array.from(rows), Float64Array.from(pred));
    const slow = slowImportance(trees, data, rows, pred);
    t.ok(slow.some((v) => v !== 0), 'not vacuous');
    t.ok(slow.every((v, j) => Math.abs(v - fast[j]) < 1e-9), `rep ${rep}: ${[...fast]} vs ${slow}`);
  }
});

t.test('a split on a feature unrelated to the uplift scores about 0 on held-out rows; a real one scores positive', async (t) => {
  // Uplift 0.3 when x0 is in bins 1-2, 0 otherwise; x1 pure noise. The "model": predictions that
  // follow x0 (0.3 / 0) plus, to mimic a fitted noise split, +-0.05 by x1's half.
  const rng = createRng(11);
  const n = 40000;
  const x0 = Array.from({ length: n }, () => 1 + rng.int(4));
  const x1 = Array.from({ length: n }, () => 1 + rng.int(4));
  const tr = Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
  const y = x0.map((v, i) => (rng.next() < 0.2 + (tr[i] && v <= 2 ? 0.3 : 0) ? 1 : 0));
  const data = dataset(tr, y, [x0, x1]);
  const b = new FlatTreeBuilder();
  const root = b.addLeaf(0);
  const l = b.addLeaf(0);
  const r = b.addLeaf(0);
  b.setSplit(root, 0, [1, 2], l, r);
  const ll = b.addLeaf(0), lr = b.addLeaf(0), rl = b.addLeaf(0), rr = b.addLeaf(0);
  b.setSplit(l, 1, [1, 2], ll, lr);
  b.setSplit(r, 1, [1, 2], rl, rr);
  const tree = b.finish();
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const pred = Float64Array.from(rows, (i) => (x0[i] <= 2 ? 0.3 : 0) + (x1[i] <= 2 ? 0.05 : -0.05));
  const imp = heldOutSplitImportance([tree], data, rows, pred);
  // Expected for x0: n/4 * 0.3 * 0.3 = 900 (n_L n_R / n = n / 4). x1: 0 +- noise: each of its two
  // splits has n/8 = 5000 as weight, 0.1 as prediction gap and a held-out uplift gap of sd ~0.013
  // (10 000 rows per side), so sd ~ 5000 * 0.1 * 0.013 * sqrt 2 ~ 9.
  t.ok(imp[0] > 800 && imp[0] < 1000, `real split: ${imp[0]} (expected ~900)`);
  t.ok(Math.abs(imp[1]) < 30, `noise splits: ${imp[1]} (expected ~0)`);
  const norm = normalizeImportance(imp);
  t.ok(norm[0] > 0.97, `normalised: ${[...norm]}`);
});
