import t from 'tap';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { runPipeline } from '../../src/ml/pipeline.js';
import { round4 } from '../../src/routes/uplift.js';
import { inProcessRunner, makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

t.test('the job spread over tasks gives exactly runPipeline-on-one-thread scores', async (t) => {
  const runner = await inProcessRunner(2);
  const { app, headers } = await makeApp({ runner, config: { poolSize: 2 } });
  t.teardown(() => app.close());
  const rows = syntheticRows(900, 11);
  for (const [model, contamination] of [['auto', 0], ['t_learner', 0.2]] as const) {
    runner.tasks.length = 0;
    const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify({ rows, contamination, options: { model, seed: 99 } }) });
    t.equal(res.statusCode, 200, `${model}: 200`);
    const body = res.json();
    const ref = runPipeline(toRawDataset(rows), { model, seed: 99, contamination });
    t.same(body.details.map((d: { uplift_score: number }) => d.uplift_score), Array.from(ref.scores, round4), `${model}: same scores`);
    t.same(body.details.map((d: { uplift_decile: number }) => d.uplift_decile), Array.from(ref.deciles), `${model}: same deciles`);
    t.equal(body.model.type, ref.model.type, `${model}: same chosen model`);
    t.same(body.model.cv.map((c: { config: string }) => c.config), ref.model.cv.map((c) => c.config), `${model}: same CV table`);
    t.same(
      body.feature_importance,
      ref.feature_importance.map((f) => ({ feature: f.feature, importance: round4(f.importance) })),
      `${model}: same feature importance (computed after selection for the chosen forest only)`,
    );
    const kinds = runner.tasks.map((x) => x.kind);
    t.equal(kinds.filter((k) => k === 'cv').length, ref.model.cv.filter((c) => !c.config.startsWith('blend')).length * 3, `${model}: one cv task per configuration and fold`);
    if (ref.model.type === 'uplift_rf') t.equal(kinds.filter((k) => k === 'final').length, 4, 'forest final fit split into 2 x 2 workers tree ranges');
    t.equal(kinds.filter((k) => k === 'score').length, 2, `${model}: rows scored in 2 ranges, one per worker`);
  }
});
