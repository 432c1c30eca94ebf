// Within-fit refinement of pooled categorical levels (src/ml/data/encode.ts: refinePooled & co.).
import t from 'tap';
import {
  encode,
  pooledLevelsOf,
  pooledUpliftEncoding,
  refinePooled,
  refinedView,
  REFINE_PARTS,
  refinePart,
  REFINE_Z,
} from '../../src/ml/data/encode.js';
import type { RawDataset, RawFeature } from '../../src/ml/types.js';
import { createRng } from '../../src/ml/rng.js';
import { fitUpliftForest, mergeForests, UpliftForest } from '../../src/ml/forest/forest.js';
import { DEFAULT_FOREST, FOREST_REFINE_POOLED } from '../../src/ml/forest/defaults.js';
import { fitTLearner, TLearnerModel } from '../../src/ml/boosting/tlearner.js';
import { TLEARNER_GRID } from '../../src/ml/boosting/defaults.js';

/**
 * A campaign with one many-level categorical (`levels` levels, frequencies ~ 1/sqrt like the lab's
 * postal_area) whose levels with code % 7 == 0 add `effect` uplift, and one numeric feature.
 */
function campaign(n: number, seed: number, levels: number, effect: number): { raw: RawDataset; tau: Float64Array } {
  const rng = createRng(seed);
  const codes = new Int32Array(n);
  const x = new Float64Array(n);
  const treatment = new Uint8Array(n);
  const outcome = new Uint8Array(n);
  const tau = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    codes[i] = Math.floor(levels * u * u);
    x[i] = rng.next();
    treatment[i] = rng.next() < 0.5 ? 1 : 0;
    tau[i] = (codes[i] % 7 === 0 ? effect : 0) + 0.05 * x[i];
    const p = 0.3 + (treatment[i] ? tau[i] : 0);
    outcome[i] = rng.next() < p ? 1 : 0;
  }
  const features: RawFeature[] = [
    { name: 'area', kind: 'categorical', levels: Array.from({ length: levels }, (_, l) => `A${l}`), codes },
    { name: 'x', kind: 'numeric', values: x },
  ];
  return { raw: { n, treatment, outcome, features }, tau };
}

const all = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

function pearson(a: Float64Array, b: Float64Array): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) { ma += a[i]; mb += b[i]; }
  ma /= a.length; mb /= a.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

t.test('encode keeps the identity of pooled levels (and only of pooled rows)', async (t) => {
  const { raw } = campaign(6000, 1, 300, 0.1);
  const data = encode(raw);
  const f = data.features[0];
  const pl = pooledLevelsOf(f);
  t.ok(pl, 'many-level feature with pooling has pooled levels');
  if (!pl) return;
  const codes = (raw.features[0] as Extract<RawFeature, { kind: 'categorical' }>).codes;
  const levelOfPooled = new Map<number, number>();
  let bad = 0;
  for (let i = 0; i < data.n; i++) {
    const inOther = f.bins[i] === f.otherBin;
    if (inOther !== (pl.codes[i] !== pl.none)) bad++;
    if (!inOther) continue;
    // one pooled code per raw level, and one raw level per pooled code
    const prev = levelOfPooled.get(pl.codes[i]);
    if (prev !== undefined && prev !== codes[i]) bad++;
    levelOfPooled.set(pl.codes[i], codes[i]);
  }
  t.equal(bad, 0);
  t.equal(levelOfPooled.size, pl.nLevels);
  t.equal(new Set(levelOfPooled.values()).size, pl.nLevels);
  t.notOk(pooledLevelsOf(data.features[1]), 'numeric feature has none');
});

t.test('pooledUpliftEncoding = a slow transcription of DerSimonian-Laird + empirical Bayes', async (t) => {
  const rng = createRng(5);
  for (let rep = 0; rep < 5; rep++) {
    const n = 3000;
    const L = 40;
    const codes = new Uint16Array(n);
    const tr = new Uint8Array(n);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      codes[i] = rng.int(L);
      tr[i] = rng.next() < 0.5 ? 1 : 0;
      y[i] = rng.next() < 0.2 + (tr[i] && codes[i] % 3 === 0 ? 0.2 * rep / 4 : 0) ? 1 : 0;
    }
    const rows = Uint32Array.from({ length: n / 2 }, (_, i) => 2 * i);
    const te = new Float64Array(L);
    const z = pooledUpliftEncoding(codes, L, tr, y, rows, rows.length, te);
    // slow twin
    const rs = Array.from(rows);
    const T = rs.filter((r) => tr[r] === 1), C = rs.filter((r) => tr[r] === 0);
    const Pt = T.reduce((s, r) => s + y[r], 0) / T.length;
    const Pc = C.reduce((s, r) => s + y[r], 0) / C.length;
    const lv = Array.from({ length: L }, (_, l) => {
      const a = T.filter((r) => codes[r] === l), b = C.filter((r) => codes[r] === l);
      return { nt: a.length, nc: b.length, u: a.reduce((s, r) => s + y[r], 0) / a.length - b.reduce((s, r) => s + y[r], 0) / b.length };
    });
    const ok = lv.filter((v) => v.nt > 0 && v.nc > 0);
    const v = (q: { nt: number; nc: number }): number => (Pt * (1 - Pt)) / q.nt + (Pc * (1 - Pc)) / q.nc;
    const w = ok.map((q) => 1 / v(q));
    const S1 = w.reduce((a, b) => a + b, 0);
    const uw = ok.reduce((s, q, i) => s + w[i] * q.u, 0) / S1;
    const Q = ok.reduce((s, q, i) => s + w[i] * (q.u - uw) ** 2, 0);
    const k = ok.length;
    const s2 = Math.max(0, (Q - (k - 1)) / (S1 - w.reduce((s, x) => s + x * x, 0) / S1));
    t.ok(Math.abs(z - (Q - (k - 1)) / Math.sqrt(2 * (k - 1))) < 1e-9, `z (rep ${rep})`);
    let maxDiff = 0;
    lv.forEach((q, l) => {
      const want = q.nt > 0 && q.nc > 0 ? Pt - Pc + (s2 / (s2 + v(q))) * (q.u - (Pt - Pc)) : Pt - Pc;
      maxDiff = Math.max(maxDiff, Math.abs(te[l] - want));
    });
    t.ok(maxDiff < 1e-12, `encoding (rep ${rep}, s2 ${s2.toFixed(5)})`);
  }
});

t.test('refinePooled: cross-fitted training bins never use the row\'s own part; no refinement without heterogeneity', async (t) => {
  const { raw } = campaign(30000, 2, 600, 0.3);
  const data = encode(raw);
  const rows = all(data.n).filter((r) => r % 3 !== 0); // a CV-like training set
  const { train, refinements } = refinePooled(data, rows);
  t.equal(refinements.length, 1, 'strong level effect: refined');
  const f = data.features[0];
  const ref = refinements[0];
  t.ok(ref.nBins > f.nBins && ref.nBins <= 256);
  t.equal(train.features[1], data.features[1], 'other features shared');
  // held-out rows: the full-training map, in train and in the prediction view alike
  const view = refinedView(data, refinements).features[0];
  const pl = pooledLevelsOf(f)!;
  let mismatch = 0;
  for (let r = 0; r < data.n; r += 3) {
    if (train.features[0].bins[r] !== view.bins[r]) mismatch++;
    if (pl.codes[r] === pl.none && view.bins[r] !== f.bins[r]) mismatch++;
    if (pl.codes[r] !== pl.none && view.bins[r] !== ref.levelBin[pl.codes[r]]) mismatch++;
  }
  t.equal(mismatch, 0, 'held-out and unpooled rows');
  // a training row's group is a function of its level's encoding from the OTHER parts only (slow twin:
  // recompute that encoding per part; groups must be monotone in it, equal encodings -> equal groups)
  const group = (b: number): number => (b === f.otherBin ? 0 : b - f.nBins + 1);
  const pooledTrain = Array.from(rows).filter((r) => pl.codes[r] !== pl.none);
  let violations = 0;
  for (let p = 0; p < REFINE_PARTS; p++) {
    const own = pooledTrain.filter((r) => refinePart(r) === p);
    const others = Uint32Array.from(pooledTrain.filter((r) => refinePart(r) !== p));
    const te = new Float64Array(pl.nLevels);
    pooledUpliftEncoding(pl.codes, pl.nLevels, data.treatment, data.outcome, others, others.length, te);
    const pts = own.map((r) => ({ e: te[pl.codes[r]], g: group(train.features[0].bins[r]) })).sort((a, b) => a.e - b.e || a.g - b.g);
    for (let i = 1; i < pts.length; i++) {
      if (pts[i].g < pts[i - 1].g) violations++;
      if (pts[i].e === pts[i - 1].e && pts[i].g !== pts[i - 1].g) violations++;
    }
    t.ok(new Set(pts.map((q) => q.g)).size > 1, `part ${p}: several groups`);
  }
  t.equal(violations, 0, 'cross-fitted groups follow the other parts\' encoding');
  // no effect at all: below the heterogeneity threshold -> nothing refined (checked against the z statistic)
  const nul = encode(campaign(20000, 3, 600, 0).raw);
  for (const s of [0, 1, 2]) {
    const rws = all(nul.n).filter((r) => r % 3 !== s);
    const plN = pooledLevelsOf(nul.features[0])!;
    const pooled = rws.filter((r) => plN.codes[r] !== plN.none);
    const z = pooledUpliftEncoding(plN.codes, plN.nLevels, nul.treatment, nul.outcome, pooled, pooled.length, new Float64Array(plN.nLevels));
    const res = refinePooled(nul, rws);
    t.equal(res.refinements.length, z > REFINE_Z ? 1 : 0, `null fold ${s}: z ${z.toFixed(2)}`);
    if (res.refinements.length === 0) t.equal(res.train, nul);
  }
});

t.test('forest and T-learner use the refinement: better on a many-level effect; buffers and tree ranges agree', async (t) => {
  const { raw, tau } = campaign(20000, 4, 600, 0.2);
  const data = encode(raw);
  const rows = all(data.n);
  // the same data without pooled-level identities (the feature as encoded before refinement existed)
  const bare = { ...data, features: data.features.map((f) => ({ ...f, pooledLevels: undefined })) };
  const cfg = { ...DEFAULT_FOREST, nTrees: 30 };
  const forest = fitUpliftForest(data, rows, cfg, 11, undefined, true);
  t.equal(forest.refinements.length, 1);
  const plain = fitUpliftForest(bare, rows, cfg, 11, undefined, true);
  t.equal(plain.refinements.length, 0);
  const sF = pearson(forest.predict(data), tau);
  const sP = pearson(plain.predict(bare), tau);
  t.ok(sF > sP + 0.03, `forest Pearson refined ${sF.toFixed(3)} > plain ${sP.toFixed(3)}`);
  const back = UpliftForest.fromBuffers(forest.toBuffers());
  t.same(back.predict(data), forest.predict(data), 'forest buffers round trip');
  const merged = mergeForests([fitUpliftForest(data, rows, cfg, 11, [0, 12], true), fitUpliftForest(data, rows, cfg, 11, [12, 30], true)]);
  t.same(merged.predict(data), forest.predict(data), 'tree ranges merge to the one-shot forest');
  t.equal(forest.view(data).features[0].nBins, forest.refinements[0].nBins);
  t.equal(fitUpliftForest(data, rows, cfg, 11).refinements.length, FOREST_REFINE_POOLED ? 1 : 0, 'default follows FOREST_REFINE_POOLED');

  const tl = fitTLearner(data, rows, TLEARNER_GRID[0], 5);
  t.equal(tl.refinements.length, 1);
  const tlPlain = fitTLearner(bare, rows, TLEARNER_GRID[0], 5);
  const sT = pearson(tl.predict(data), tau);
  const sTP = pearson(tlPlain.predict(bare), tau);
  t.ok(sT > sTP + 0.01, `T-learner Pearson refined ${sT.toFixed(3)} > plain ${sTP.toFixed(3)}`);
  t.same(TLearnerModel.fromBuffers(tl.toBuffers()).predict(data), tl.predict(data), 'T-learner buffers round trip');
});

t.test('no pooled-level identities for id-like columns (fewer than REFINE_MIN_ROWS_PER_LEVEL rows a level)', async (t) => {
  const n = 3000;
  const idLike: RawFeature = { name: 'id', kind: 'categorical', levels: Array.from({ length: n }, (_, i) => `u${i}`), codes: Int32Array.from({ length: n }, (_, i) => (i < 1000 ? 0 : i)) }; // one frequent level, the rest unique
  const few = campaign(n, 9, 100, 0.1).raw.features[0];
  const data = encode({ n, treatment: new Uint8Array(n), outcome: new Uint8Array(n), features: [idLike, few] });
  const idF = data.features.find((f) => f.name === 'id');
  t.ok(idF && idF.otherBin !== undefined, 'id column pooled');
  t.notOk(idF && pooledLevelsOf(idF), 'but not kept for refinement');
  const areaF = data.features.find((f) => f.name === 'area');
  const pl = areaF && pooledLevelsOf(areaF);
  t.ok(pl, 'a 100-level column on 3 000 rows keeps them');
  t.equal(refinePooled(data, all(n)).refinements.length, 0, 'no outcomes vary: nothing refined');
});
