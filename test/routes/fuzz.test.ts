import t from 'tap';
import fc from 'fast-check';
import { inProcessRunner, makeApp, syntheticRows } from './helpers.js';

const URL = '/api/v1/ai/uplift_model';

// Property: random mutations of a valid body never yield a 5xx, and every error has the JSON error shape.
t.test('mutated bodies never get a 5xx', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner(), config: { rateLimitMax: 0 } });
  t.teardown(() => app.close());
  const base = { contamination: 0.1, rows: syntheticRows(220, 9), options: { model: 'auto', seed: 1 } };

  type Mutation = { where: 'top' | 'row' | 'features' | 'options'; row: number; key: string; value: unknown; remove: boolean };
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    where: fc.constantFrom('top', 'row', 'features', 'options'),
    row: fc.nat(219),
    key: fc.oneof(fc.constantFrom('id', 'treatment', 'outcome', 'features', 'rows', 'contamination', 'options', 'model', 'seed', 'age', '__proto__', 'constructor'), fc.string({ maxLength: 8 })),
    value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(0, 1, 2, -1, 0.5, 1e308, '', 'x', null, true, [], {})),
    remove: fc.boolean(),
  });

  let runs = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (muts) => {
      const body = JSON.parse(JSON.stringify(base)) as Record<string, unknown> & { rows: Array<Record<string, unknown>> };
      for (const m of muts) {
        const target: Record<string, unknown> | undefined =
          m.where === 'top'
            ? body
            : m.where === 'options'
              ? (body.options as Record<string, unknown>)
              : m.where === 'row'
                ? body.rows?.[m.row]
                : (body.rows?.[m.row]?.features as Record<string, unknown> | undefined);
        if (!target || typeof target !== 'object' || Array.isArray(target)) continue;
        if (m.remove) delete target[m.key];
        else Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      }
      const res = await app.inject({ method: 'POST', url: URL, headers, payload: JSON.stringify(body) });
      runs++;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) return false;
      if (res.statusCode !== 200) {
        const j = res.json();
        return j.statusCode === res.statusCode && typeof j.code === 'string' && typeof j.message === 'string';
      }
      return true;
    }),
    { numRuns: 60, seed: 20240611 },
  );
  t.equal(runs, 60);
  t.ok([...statuses.keys()].every((s) => s < 500), `statuses seen: ${JSON.stringify(Object.fromEntries(statuses))}`);
});
