import t from 'tap';
import {
  fitModel, gridFor, describeConfig, hyperparameters, mergeModelParts, modelToBuffers, modelFromBuffers, AveragedModel,
} from '../../src/ml/models.js';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { encode } from '../../src/ml/data/encode.js';
import { createRng } from '../../src/ml/rng.js';
import type { BinnedDataset, FittedModel, ForestConfig, TLearnerConfig } from '../../src/ml/types.js';

function data(n: number, seed: number): BinnedDataset {
  const rng = createRng(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    const tr = rng.next() < 0.5 ? 1 : 0;
    rows.push({ treatment: tr, outcome: rng.next() < 0.2 + 0.3 * tr * (x > 0.5 ? 1 : 0) ? 1 : 0, features: { x, z: rng.int(4), noise: rng.next() } });
  }
  return encode(toRawDataset(rows));
}

const d = data(1500, 1);
const all = Uint32Array.from({ length: d.n }, (_, i) => i);
const forestCfg: ForestConfig = { ...(gridFor('uplift_rf')[0] as ForestConfig), nTrees: 8 };
const tlCfg = gridFor('t_learner')[0] as TLearnerConfig;

t.test('fitModel dispatches on the family; buffers round-trip exactly', async (t) => {
  for (const cfg of [forestCfg, tlCfg]) {
    const m = fitModel(d, all, cfg, 3);
    const p = m.predict(d);
    t.equal(p.length, d.n);
    t.ok(p.some((v) => v !== p[0]), `${cfg.family}: scores vary`);
    const b = modelToBuffers(m);
    t.equal(b.family, cfg.family);
    const back = modelFromBuffers(b);
    t.same(Buffer.from(back.predict(d).buffer), Buffer.from(p.buffer), `${cfg.family}: same predictions after round trip`);
    t.same(back.importance(), m.importance());
  }
  t.throws(() => fitModel(d, all, { family: 'nope' } as unknown as ForestConfig, 1));
});

t.test('AveragedModel: mean of predictions, mean of normalised importances', async (t) => {
  const a = fitModel(d, all, forestCfg, 3);
  const b = fitModel(d, all, tlCfg, 3);
  const avg = new AveragedModel([a, b]);
  const pa = a.predict(d), pb = b.predict(d), pm = avg.predict(d);
  for (let i = 0; i < d.n; i++) if (Math.abs(pm[i] - (pa[i] + pb[i]) / 2) > 1e-15) { t.fail(`row ${i}`); break; }
  const rows = Uint32Array.from([5, 2, 9]);
  t.same([...avg.predict(d, rows)], [pm[5], pm[2], pm[9]]);
  const norm = (v: Float64Array) => { const s = v.reduce((x, y) => x + Math.max(0, y), 0); return v.map((x) => (s > 0 ? Math.max(0, x) / s : 0)); };
  const ia = norm(a.importance()), ib = norm(b.importance()), im = avg.importance();
  im.forEach((v, j) => t.ok(Math.abs(v - (ia[j] + ib[j]) / 2) < 1e-12, `importance ${j}`));
  t.ok(Math.abs(im.reduce((x, y) => x + y, 0) - 1) < 1e-9, 'sums to 1');
  t.throws(() => new AveragedModel([]));
});

t.test('mergeModelParts merges forest tree ranges and refuses other models', async (t) => {
  const one = fitModel(d, all, forestCfg, 9);
  const parts: FittedModel[] = [fitModel(d, all, forestCfg, 9, [0, 3]), fitModel(d, all, forestCfg, 9, [3, 8])];
  t.same(Buffer.from(mergeModelParts(parts).predict(d).buffer), Buffer.from(one.predict(d).buffer));
  t.throws(() => mergeModelParts([fitModel(d, all, tlCfg, 1), fitModel(d, all, tlCfg, 2)]));
});

t.test('labels and hyper-parameters', async (t) => {
  t.match(describeConfig(forestCfg), new RegExp(`^uplift_rf ${forestCfg.criterion} depth=${forestCfg.maxDepth} trees=8 `));
  t.match(describeConfig(tlCfg), new RegExp(`^t_learner gbm iter=${tlCfg.nIter} lr=${tlCfg.learningRate} depth=${tlCfg.maxDepth} `));
  const h = hyperparameters(forestCfg);
  t.equal(h.n_trees, 8);
  t.equal(h.max_depth, forestCfg.maxDepth);
  t.equal(h.n_reg, forestCfg.nReg);
  const ht = hyperparameters(tlCfg);
  t.same(Object.keys(ht).sort(), ['l2', 'learning_rate', 'max_depth', 'min_samples_leaf', 'n_iter']);
  t.throws(() => gridFor('nope' as never));
});
