import t from 'tap';
import { Matrix, inverse } from 'ml-matrix';
import {
  ateWithInterval,
  aucNullSe,
  aucScore,
  evaluationDeciles,
  crossFitHeterogeneityTest,
  crossFitRawPValue,
  heterogeneityTest,
  withCandidates,
  invertSmall,
  normalCdf,
  normalSf,
  qiniCurvePoints,
  Z975,
} from '../../src/ml/eval/stats.js';
import { createRng } from '../../src/ml/rng.js';

type Asserter = { ok: (v: unknown, m?: string) => unknown };
const close = (tt: Asserter, a: number, b: number, tol: number, msg: string) =>
  tt.ok(Math.abs(a - b) <= tol, `${msg}: ${a} vs ${b} (tol ${tol})`);

t.test('normal tail probabilities match known quantiles', async (tt) => {
  close(tt, normalSf(0), 0.5, 1e-7, 'sf(0)');
  close(tt, normalSf(Z975), 0.025, 1e-7, 'sf(1.96)');
  close(tt, normalSf(1.6448536269514722), 0.05, 1e-7, 'sf(1.645)');
  close(tt, normalSf(3.090232306167813) / 0.001, 1, 1e-6, 'sf(3.09) relative');
  close(tt, normalSf(5.199337582192817) / 1e-7, 1, 1e-6, 'sf(5.2) relative');
  close(tt, normalCdf(-1.6448536269514722), 0.05, 1e-7, 'cdf(-1.645)');
  close(tt, normalSf(-2) + normalSf(2), 1, 1e-12, 'symmetry');
});

t.test('ateWithInterval: hand-computed Wald interval and the contamination correction', async (tt) => {
  // 10 treated, 4 converted; 10 control, 2 converted. diff = 0.2; se = sqrt(.4*.6/10 + .2*.8/10) = 0.2.
  const tr = new Uint8Array(20);
  const y = new Uint8Array(20);
  for (let i = 0; i < 10; i++) tr[i] = 1;
  for (const i of [0, 1, 2, 3, 10, 11]) y[i] = 1;
  const a = ateWithInterval(tr, y, 0);
  close(tt, a.estimate, 0.2, 1e-12, 'estimate');
  close(tt, a.se, 0.2, 1e-12, 'se');
  close(tt, a.ci95[0], 0.2 - Z975 * 0.2, 1e-12, 'lo');
  close(tt, a.ci95[1], 0.2 + Z975 * 0.2, 1e-12, 'hi');
  const b = ateWithInterval(tr, y, 0.5);
  close(tt, b.estimate, 0.4, 1e-12, 'corrected estimate');
  close(tt, b.ci95[0], (0.2 - Z975 * 0.2) * 2, 1e-12, 'corrected lo');
  close(tt, b.ci95[1], (0.2 + Z975 * 0.2) * 2, 1e-12, 'corrected hi');
  tt.throws(() => ateWithInterval(tr, y, 1));
});

t.test('ateWithInterval covers the true difference about 95 % of the time', async (tt) => {
  const rng = createRng(11);
  let cover = 0;
  const reps = 400;
  const n = 600;
  const tr = new Uint8Array(n);
  const y = new Uint8Array(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) {
      tr[i] = rng.next() < 0.5 ? 1 : 0;
      y[i] = rng.next() < (tr[i] ? 0.35 : 0.25) ? 1 : 0;
    }
    const a = ateWithInterval(tr, y);
    if (a.ci95[0] <= 0.1 && 0.1 <= a.ci95[1]) cover++;
  }
  tt.ok(cover / reps > 0.91 && cover / reps < 0.985, `coverage ${cover / reps}`);
});

t.test('invertSmall inverts and refuses singular matrices', async (tt) => {
  const a = Float64Array.from([4, 1, 0, 1, 3, 1, 0, 1, 2]);
  const inv = invertSmall(a, 3)!;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += a[i * 3 + k] * inv[k * 3 + j];
      close(tt, v, i === j ? 1 : 0, 1e-12, `A*inv [${i},${j}]`);
    }
  tt.equal(invertSmall(Float64Array.from([1, 2, 2, 4]), 2), null);
});

/** Slow obvious twin: the BLP regression with explicit matrices (ml-matrix) and the HC1 sandwich. */
function blpSlow(tr: Uint8Array, y: Uint8Array, s: Float64Array) {
  const n = tr.length;
  const p = tr.reduce((a, v) => a + v, 0) / n;
  const sm = s.reduce((a, v) => a + v, 0) / n;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push([1, s[i] - sm, tr[i] - p, (tr[i] - p) * (s[i] - sm)]);
  const X = new Matrix(rows);
  const Y = Matrix.columnVector(Array.from(y));
  const XtXi = inverse(X.transpose().mmul(X));
  const beta = XtXi.mmul(X.transpose()).mmul(Y);
  const e = Y.clone().sub(X.mmul(beta));
  const meat = Matrix.zeros(4, 4);
  for (let i = 0; i < n; i++) {
    const xi = Matrix.columnVector(rows[i]);
    meat.add(xi.mmul(xi.transpose()).mul(e.get(i, 0) ** 2));
  }
  const V = XtXi.mmul(meat).mmul(XtXi).mul(n / (n - 4));
  return { slope: beta.get(3, 0), se: Math.sqrt(V.get(3, 3)) };
}

function simulate(seed: number, n: number, tau: (x: number) => number, noise: number) {
  const rng = createRng(seed);
  const tr = new Uint8Array(n);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    tr[i] = rng.next() < 0.5 ? 1 : 0;
    const p0 = 0.1 + 0.3 * x; // baseline depends on x, and so does the score
    y[i] = rng.next() < p0 + (tr[i] ? tau(x) : 0) ? 1 : 0;
    s[i] = x + noise * (rng.next() - 0.5);
  }
  return { tr, y, s };
}

t.test('heterogeneityTest equals the explicit-matrix OLS + HC1 twin', async (tt) => {
  for (const seed of [1, 2, 3]) {
    const { tr, y, s } = simulate(seed, 300, (x) => 0.2 * x, 0.3);
    const fast = heterogeneityTest(tr, y, s);
    const slow = blpSlow(tr, y, s);
    close(tt, fast.slope!, slow.slope, 1e-9, `slope seed ${seed}`);
    close(tt, fast.slope_se!, slow.se, 1e-9, `se seed ${seed}`);
    close(tt, fast.p_value, normalSf(slow.slope / slow.se), 1e-9, `p seed ${seed}`);
    tt.equal(fast.significant, fast.p_value < 0.05);
    tt.match(fast.test, /BLP/);
  }
});

t.test('heterogeneityTest is calibrated under the null (200 seeded datasets)', async (tt) => {
  let reject = 0;
  let below = 0;
  const reps = 200;
  for (let r = 0; r < reps; r++) {
    // Constant effect (+0.05 for everyone) and a score that tracks the baseline, not the effect.
    const { tr, y, s } = simulate(1000 + r, 2000, () => 0.05, 0.5);
    const h = heterogeneityTest(tr, y, s);
    if (h.significant) reject++;
    if (h.p_value < 0.5) below++;
  }
  tt.ok(reject / reps >= 0.01 && reject / reps <= 0.1, `null rejection rate ${reject / reps}`);
  tt.ok(below / reps > 0.38 && below / reps < 0.62, `share of p < 0.5: ${below / reps}`);
});

t.test('heterogeneityTest is powerful with real heterogeneity', async (tt) => {
  let strong = 0;
  for (let r = 0; r < 20; r++) {
    const { tr, y, s } = simulate(5000 + r, 4000, (x) => (x > 0.5 ? 0.15 : -0.05), 0.5);
    const h = heterogeneityTest(tr, y, s);
    if (h.p_value < 0.001) strong++;
    tt.ok(h.slope! > 0, 'slope positive');
  }
  tt.ok(strong >= 18, `p < 0.001 in ${strong}/20`);
  // A reversed score points the wrong way: large p.
  const { tr, y, s } = simulate(42, 4000, (x) => 0.2 * x, 0);
  const neg = s.map((v) => -v);
  tt.ok(heterogeneityTest(tr, y, neg).p_value > 0.99, 'reversed score is not significant');
});

t.test('heterogeneityTest untestable cases', async (tt) => {
  const tr = Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 0]);
  const y = Uint8Array.from([1, 0, 0, 1, 1, 0, 0, 0]);
  const h = heterogeneityTest(tr, y, new Float64Array(8).fill(0.3));
  tt.same(h, { p_value: 1, significant: false, slope: null, slope_se: null, test: h.test });
  const h2 = heterogeneityTest(new Uint8Array(8).fill(1), y, Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  tt.equal(h2.p_value, 1);
});

t.test('evaluationDeciles: hand-computed decile table', async (tt) => {
  // decile 1: rows 0-3 (t 1,1,0,0; y 1,0,0,0), decile 3: rows 4-7 (t 1,0,0,0; y 1,1,0,1), decile 2 absent
  const tr = Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0]);
  const y = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 1]);
  const s = Float64Array.from([0.1, 0.3, -0.2, 0.0, 0.5, 0.4, 0.6, 0.7]);
  const d = Uint8Array.from([1, 1, 1, 1, 3, 3, 3, 3]);
  const out = evaluationDeciles(tr, y, s, d);
  tt.equal(out.length, 2);
  tt.same(
    out.map((r) => [r.decile, r.n_customers, r.n_treated, r.n_control]),
    [
      [1, 4, 2, 2],
      [3, 4, 1, 3],
    ],
  );
  close(tt, out[0].predicted_uplift, 0.05, 1e-12, 'pred d1');
  close(tt, out[0].observed_uplift!, 0.5, 1e-12, 'obs d1');
  close(tt, out[0].observed_uplift_se!, Math.sqrt(0.25 / 2), 1e-12, 'se d1');
  close(tt, out[1].observed_uplift!, 1 - 2 / 3, 1e-12, 'obs d3');
  close(tt, out[1].observed_uplift_se!, Math.sqrt(0 + (2 / 9) / 3), 1e-12, 'se d3');
  // contamination 0.5: everything doubles, predicted clipped to [-1, 1] per row first
  const c = evaluationDeciles(tr, y, s, d, 0.5);
  close(tt, c[0].observed_uplift!, 1, 1e-12, 'corrected obs d1');
  close(tt, c[1].predicted_uplift, (1 + 0.8 + 1 + 1) / 4, 1e-12, 'corrected+clipped pred d3');
  // A decile with only treated rows: observed is null
  const only = evaluationDeciles(Uint8Array.from([1, 1]), Uint8Array.from([1, 0]), Float64Array.from([0, 0]), Uint8Array.from([5, 5]));
  tt.equal(only[0].observed_uplift, null);
  tt.equal(only[0].observed_uplift_se, null);
});

/** Direct transcription: incremental conversions among the top m rows (distinct scores). */
function qiniAtSlow(y: Uint8Array, s: Float64Array, tr: Uint8Array, m: number): number {
  const idx = Array.from(s.keys()).sort((a, b) => s[b] - s[a]).slice(0, m);
  let nt = 0, yt = 0, nc = 0, yc = 0;
  for (const i of idx) {
    if (tr[i]) { nt++; yt += y[i]; } else { nc++; yc += y[i]; }
  }
  return yt - (nc ? (yc * nt) / nc : 0);
}

t.test('qiniCurvePoints matches the definition at every 5 % (distinct scores)', async (tt) => {
  const rng = createRng(3);
  const n = 200;
  const tr = new Uint8Array(n);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    tr[i] = rng.next() < 0.5 ? 1 : 0;
    s[i] = rng.next();
    y[i] = rng.next() < 0.2 + (tr[i] ? 0.3 * s[i] : 0) ? 1 : 0;
  }
  const pts = qiniCurvePoints(y, s, tr);
  tt.equal(pts.length, 21);
  const total = qiniAtSlow(y, s, tr, n);
  for (let k = 0; k <= 20; k++) {
    close(tt, pts[k].fraction, k / 20, 1e-12, `fraction ${k}`);
    close(tt, pts[k].incremental_conversions, qiniAtSlow(y, s, tr, (n * k) / 20), 1e-9, `value at ${k}`);
    close(tt, pts[k].random, (total * k) / 20, 1e-9, `random at ${k}`);
  }
  const coarse = qiniCurvePoints(y, s, tr, 0.3);
  tt.same(coarse.map((p) => p.fraction), [0, 0.3, 0.6, 0.9, 1]);
});

t.test('qiniCurvePoints: all scores tied = the random line', async (tt) => {
  const tr = Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
  const y = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 0, 0, 0]);
  const pts = qiniCurvePoints(y, new Float64Array(10), tr, 0.1);
  // total = 3 - 1 * 5/5 = 2
  close(tt, pts[10].incremental_conversions, 2, 1e-12, 'end');
  for (const p of pts) close(tt, p.incremental_conversions, p.random, 1e-12, `tied at ${p.fraction}`);
});

/** Slow twin: pairwise comparisons, ties count one half. */
function aucSlow(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let num = 0, pairs = 0;
  for (let i = 0; i < labels.length; i++)
    for (let j = 0; j < labels.length; j++)
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        num += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
  return num / pairs;
}

t.test('aucScore: hand cases and the pairwise twin with heavy ties', async (tt) => {
  tt.equal(aucScore([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1);
  tt.equal(aucScore([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]), 0);
  tt.equal(aucScore([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
  // positives 0.3, 0.2; negatives 0.1, 0.2: pairs (0.3>0.1)=1,(0.3>0.2)=1,(0.2>0.1)=1,(0.2=0.2)=.5 -> 3.5/4
  tt.equal(aucScore([1, 1, 0, 0], [0.3, 0.2, 0.1, 0.2]), 0.875);
  tt.ok(Number.isNaN(aucScore([1, 1], [0.3, 0.2])));
  const rng = createRng(9);
  for (let r = 0; r < 5; r++) {
    const n = 150;
    const lab = new Uint8Array(n);
    const sc = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      lab[i] = rng.next() < 0.4 ? 1 : 0;
      sc[i] = rng.int(7) + lab[i] * rng.int(3); // heavy ties
    }
    close(tt, aucScore(lab, sc), aucSlow(lab, sc), 1e-12, `twin ${r}`);
  }
});

t.test('aucNullSe: Mann-Whitney null variance, checked by simulation', async (tt) => {
  close(tt, aucNullSe(10, 10), Math.sqrt(21 / 1200), 1e-15, 'formula');
  const rng = createRng(5);
  const n1 = 60, n0 = 90, reps = 600;
  const lab = new Uint8Array(n1 + n0);
  lab.fill(1, 0, n1);
  const sc = new Float64Array(n1 + n0);
  let sum = 0, sum2 = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < sc.length; i++) sc[i] = rng.next();
    const a = aucScore(lab, sc);
    sum += a;
    sum2 += a * a;
  }
  const sd = Math.sqrt(sum2 / reps - (sum / reps) ** 2);
  tt.ok(Math.abs(sd / aucNullSe(n1, n0) - 1) < 0.12, `simulated sd ${sd} vs ${aucNullSe(n1, n0)}`);
});

/**
 * Cross-fitted null data: a noise-fitting "model" (per-bin uplift estimated on the other two folds, 50
 * bins) scores each fold. The pooled one-regression test over-rejects here; the per-fold combination
 * must not.
 */
function crossFitNull(seed: number, n: number, bins: number) {
  const rng = createRng(seed);
  const x = new Int32Array(n), tr = new Uint8Array(n), y = new Uint8Array(n), folds = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.int(bins);
    tr[i] = rng.next() < 0.5 ? 1 : 0;
    y[i] = rng.next() < 0.2 + (0.4 * x[i]) / bins ? 1 : 0; // baseline varies, no effect
    folds[i] = i % 3;
  }
  const s = new Float64Array(n);
  for (let k = 0; k < 3; k++) {
    const a = new Float64Array(4 * bins);
    for (let i = 0; i < n; i++) if (folds[i] !== k) { a[4 * x[i] + 2 * tr[i]]++; a[4 * x[i] + 2 * tr[i] + 1] += y[i]; }
    for (let i = 0; i < n; i++)
      if (folds[i] === k) { const b = 4 * x[i]; s[i] = (a[b + 3] + 1) / (a[b + 2] + 2) - (a[b + 1] + 1) / (a[b] + 2); }
  }
  return { tr, y, s, folds };
}

t.test('crossFitHeterogeneityTest is calibrated on cross-fitted null scores; the pooled test is not', async (tt) => {
  const reps = 300;
  let pooledRej = 0, crossRej = 0, crossBelowHalf = 0;
  for (let r = 0; r < reps; r++) {
    const { tr, y, s, folds } = crossFitNull(100 + r, 3000, 50);
    if (heterogeneityTest(tr, y, s).significant) pooledRej++;
    const c = crossFitHeterogeneityTest(tr, y, s, folds);
    if (c.significant) crossRej++;
    if (c.p_value < 0.5) crossBelowHalf++;
  }
  tt.ok(crossRej / reps <= 0.08, `cross-fit rejection rate ${crossRej / reps}`);
  tt.ok(crossBelowHalf / reps > 0.35, `not degenerate: share of p < 0.5 = ${crossBelowHalf / reps}`);
  tt.ok(pooledRej / reps > 0.07, `pooled rejection rate ${pooledRej / reps} (known to over-reject here)`);
});

t.test('crossFitHeterogeneityTest: doubled slope variance, Bonferroni and fold p-values, by hand', async (tt) => {
  const parts = [1, 2, 3].map((seed) => simulate(seed, 600, (x) => 0.3 * x, 0.2));
  const n = parts.reduce((a, p) => a + p.tr.length, 0);
  const tr = new Uint8Array(n), y = new Uint8Array(n), s = new Float64Array(n), folds = new Uint8Array(n);
  let o = 0;
  parts.forEach((p, f) => {
    tr.set(p.tr, o); y.set(p.y, o); s.set(p.s, o); folds.fill(f, o, o + p.tr.length); o += p.tr.length;
  });
  const share = tr.reduce((a, v) => a + v, 0) / n;
  const pooled = heterogeneityTest(tr, y, s);
  const c = crossFitHeterogeneityTest(tr, y, s, folds);
  tt.same(c.fold_p_values, parts.map((p) => heterogeneityTest(p.tr, p.y, p.s, share).p_value));
  close(tt, c.slope!, pooled.slope!, 1e-12, 'slope = pooled slope');
  close(tt, c.slope_se!, pooled.slope_se! * Math.SQRT2, 1e-12, 'se doubled in variance');
  close(tt, c.p_value, normalSf(pooled.slope! / (pooled.slope_se! * Math.SQRT2)), 1e-15, 'p');
  const c4 = crossFitHeterogeneityTest(tr, y, s, folds, 4);
  close(tt, c4.p_value, Math.min(1, 4 * c.p_value), 1e-15, 'Bonferroni x 4');
  tt.match(c4.test, /Bonferroni-adjusted for 4/);
  const flat = crossFitHeterogeneityTest(tr, y, new Float64Array(n), folds);
  tt.same([flat.p_value, flat.significant, flat.slope], [1, false, null], 'constant scores are untestable');
});

t.test('withCandidates: Bonferroni over the candidates, by hand; never above the chosen p', async (tt) => {
  const chosen = { p_value: 0.3, significant: false, slope: 1.5, slope_se: 0.9, test: 'x', fold_p_values: [0.2, 0.4, 0.5] };
  const g = withCandidates(chosen, [0.1, 0.004, 0.2]);
  close(tt, g.p_value, 0.012, 1e-15, '3 x 0.004');
  tt.equal(g.significant, true);
  tt.same([g.slope, g.slope_se, g.fold_p_values], [1.5, 0.9, [0.2, 0.4, 0.5]], 'slope and fold p-values stay the chosen ones');
  tt.same(g.candidate_p_values, [0.1, 0.004, 0.2]);
  tt.match(g.test, /Bonferroni over the 3 candidate/);
  tt.equal(withCandidates({ ...chosen, p_value: 0.006 }, [0.1, 0.004, 0.2]).p_value, 0.006, 'capped at the chosen adjusted p');
  tt.equal(withCandidates(chosen, [0.9, 0.8]).p_value, 0.3, 'min(1, 2 x 0.8) capped by the chosen 0.3');
  tt.equal(withCandidates(chosen, []), chosen, 'no candidates: unchanged');
  // crossFitRawPValue x G = crossFitHeterogeneityTest(..., G)
  const { tr, y, s, folds } = crossFitNull(7, 1500, 20);
  close(tt, Math.min(1, 5 * crossFitRawPValue(tr, y, s)), crossFitHeterogeneityTest(tr, y, s, folds, 5).p_value, 1e-15, 'raw x 5');
  tt.equal(crossFitRawPValue(tr, y, new Float64Array(tr.length)), 1, 'untestable: 1');
});

t.test('the candidates test keeps its level on cross-fitted null data with 3 correlated candidates', async (tt) => {
  const reps = 200;
  let rej = 0, below = 0;
  for (let r = 0; r < reps; r++) {
    const base = crossFitNull(5000 + r, 3000, 50);
    // three noise-fitting candidates on the same rows: 50 bins, and 25 / 10 bins of the same feature
    const cands = [50, 25, 10].map((b) => (b === 50 ? base.s : coarsen(base, b)));
    const ps = cands.map((c) => crossFitRawPValue(base.tr, base.y, c));
    // choose by the data, in the least favourable way: the candidate with the smallest p-value
    let best = 0;
    for (let k = 1; k < 3; k++) if (ps[k] < ps[best]) best = k;
    const chosen = crossFitHeterogeneityTest(base.tr, base.y, cands[best], base.folds, 3);
    const g = withCandidates(chosen, ps);
    if (g.significant) rej++;
    if (g.p_value < 0.5) below++;
  }
  tt.ok(rej / reps <= 0.06, `rejection rate ${rej / reps} at 5 %`);
  tt.ok(below / reps > 0.1, `not degenerate: share of p < 0.5 = ${below / reps}`);
});

/**
 * A coarser candidate from the same cross-fitted scores: within each fold, rows ranked by their score
 * are cut into `bins` equal groups, each scored by its group's mean score (so candidates are strongly
 * correlated, as grid configurations are).
 */
function coarsen(d: ReturnType<typeof crossFitNull>, bins: number): Float64Array {
  const n = d.tr.length;
  const s = new Float64Array(n);
  for (let k = 0; k < 3; k++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (d.folds[i] === k) rows.push(i);
    rows.sort((a, b) => d.s[a] - d.s[b] || a - b);
    const sum = new Float64Array(bins), cnt = new Float64Array(bins);
    rows.forEach((i, j) => { const g = Math.floor((j * bins) / rows.length); sum[g] += d.s[i]; cnt[g]++; });
    rows.forEach((i, j) => { const g = Math.floor((j * bins) / rows.length); s[i] = sum[g] / cnt[g]; });
  }
  return s;
}
