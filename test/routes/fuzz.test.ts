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

// Property: byte-level mutations of the serialized body (truncation, insertion of hostile tokens,
// deletion, character flips) and odd content types never yield a 5xx; every answer is a JSON error with
// a matching statusCode, or a 200.
t.test('textual mutations and odd content types never get a 5xx', async (t) => {
  const { app, headers } = await makeApp({ runner: await inProcessRunner(), config: { rateLimitMax: 0, bodyLimit: 2_000_000 } });
  t.teardown(() => app.close());
  const text = JSON.stringify({ contamination: 0.05, rows: syntheticRows(210, 4), options: { seed: 3 } });
  const tokens = [
    '1e400', '-1e400', '-0', '0.0000001', '1E+2', 'NaN', 'Infinity', 'null', 'true', '"\\u0000"', '"\\ud800"', '"💥"',
    '{}', '[]', '[[[[[[[[[[]]]]]]]]]]', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
    '"__proto__"', ',', ':', '"', '\\', '}', ']', '{', '[', ' ', '\u2028', '\uFEFF', '"x":1,', `"${'k'.repeat(2000)}"`,
  ];
  type Edit = { kind: 'truncate' | 'insert' | 'delete' | 'flip'; at: number; len: number; token: string; code: number };
  const edit: fc.Arbitrary<Edit> = fc.record({
    kind: fc.constantFrom('truncate', 'insert', 'delete', 'flip'),
    at: fc.nat(text.length - 1),
    len: fc.integer({ min: 1, max: 40 }),
    token: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 6 })),
    code: fc.integer({ min: 0, max: 0x7f }),
  });
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=latin1', 'text/json', 'application/jsonx', '');
  const statuses = new Map<number, number>();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), contentType, async (edits, ct) => {
      let s = text;
      for (const e of edits) {
        const at = Math.min(e.at, s.length);
        if (e.kind === 'truncate') s = s.slice(0, at);
        else if (e.kind === 'insert') s = s.slice(0, at) + e.token + s.slice(at);
        else if (e.kind === 'delete') s = s.slice(0, at) + s.slice(at + e.len);
        else s = s.slice(0, at) + String.fromCharCode(e.code) + s.slice(at + 1);
      }
      const h: Record<string, string> = { ...headers, 'content-type': ct };
      if (ct === '') delete h['content-type'];
      const res = await app.inject({ method: 'POST', url: URL, headers: h, payload: s });
      runs++;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) return false;
      if (res.statusCode === 200) return true;
      const j = res.json();
      return j.statusCode === res.statusCode && typeof j.code === 'string' && j.code.startsWith('UPLIFT_') && typeof j.message === 'string' && !/\n\s+at /.test(res.body);
    }),
    { numRuns: 150, seed: 6006 },
  );
  t.equal(runs, 150);
  t.ok([...statuses.keys()].every((s) => s < 500), `statuses seen: ${JSON.stringify(Object.fromEntries(statuses))}`);
  t.ok(statuses.size >= 3, 'the mutations reach several different answers');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});
