/**
 * The hostile-request battery (issue 6): every case is answered with its specific status and error code,
 * a JSON error body {statusCode, code, error, message, details?} whose message names the problem, never a
 * 5xx, never a stack trace, and nothing reaches the worker pool. Accepted-but-odd inputs (mixed types,
 * no features, unicode, 100 000 levels) run through the real engine in-process and get a 200.
 */
import t from 'tap';
import { toRawDataset } from '../../src/ml/data/columnar.js';
import { encode } from '../../src/ml/data/encode.js';
import type { JobRunner } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';
import { forbiddenRunner, inProcessRunner, makeApp, syntheticRows } from '../routes/helpers.js';

const URL = '/api/v1/ai/uplift_model';
type Row = ReturnType<typeof syntheticRows>[number];

const rows = (n = 250) => syntheticRows(n, 21);
const body = (b: unknown) => JSON.stringify(b);
const withRow = (i: number, f: (r: Row) => unknown, n = 250) => body({ rows: rows(n).map((r, j) => (j === i ? f(r) : r)) });
const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);

interface Case {
  name: string;
  payload: string;
  status: number;
  code: string;
  /** The message must name the problem. */
  says: RegExp;
  contentType?: string | null;
  /** Expected details.path. */
  path?: string;
}

const base = body({ rows: rows() });
const wide: Record<string, number> = {};
for (let j = 0; j < 10_000; j++) wide[`f${j}`] = j;

const CASES: Case[] = [
  // --- not JSON
  { name: 'malformed JSON', payload: '{"rows": [', status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'truncated body', payload: base.slice(0, base.length - 7), status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'trailing garbage', payload: `${base} xyz`, status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'two JSON documents', payload: '{"rows":[]}{"rows":[]}', status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'empty body', payload: '', status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /empty/ },
  { name: 'whitespace only', payload: ' \n\t ', status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'byte-order mark before the JSON', payload: `\uFEFF${base}`, status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'single-quoted JSON', payload: "{'rows': []}", status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'NaN literal', payload: '{"contamination": NaN, "rows": []}', status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  { name: 'unterminated string in an id', payload: '{"rows":[{"id":"abc', status: 400, code: 'UPLIFT_MALFORMED_JSON', says: /not valid JSON/ },
  // --- wrong media type
  { name: 'text/plain', payload: base, contentType: 'text/plain', status: 415, code: 'UPLIFT_UNSUPPORTED_MEDIA_TYPE', says: /text\/plain.*application\/json/ },
  { name: 'form-urlencoded', payload: 'rows=1', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'UPLIFT_UNSUPPORTED_MEDIA_TYPE', says: /x-www-form-urlencoded/ },
  { name: 'multipart', payload: '--b\r\n\r\n--b--', contentType: 'multipart/form-data; boundary=b', status: 415, code: 'UPLIFT_UNSUPPORTED_MEDIA_TYPE', says: /multipart/ },
  { name: 'application/xml', payload: '<rows/>', contentType: 'application/xml', status: 415, code: 'UPLIFT_UNSUPPORTED_MEDIA_TYPE', says: /xml/ },
  { name: 'no content type', payload: base, contentType: null, status: 415, code: 'UPLIFT_UNSUPPORTED_MEDIA_TYPE', says: /\(none\)|content type/ },
  // --- wrong top-level shape
  { name: 'body is a string', payload: '"rows"', status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /the body must be a object/ },
  { name: 'body is null', payload: 'null', status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /the body must be a object/ },
  { name: 'body is an array', payload: '[1,2]', status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /the body must be a object/ },
  { name: 'body nested 100 000 deep', payload: nested(100_000), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /the body must be a object/ },
  { name: 'rows missing', payload: '{"contamination":0}', status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows is required/, path: '/rows' },
  { name: 'rows an object', payload: '{"rows":{}}', status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows must be a array/, path: '/rows' },
  { name: 'rows null', payload: '{"rows":null}', status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows must be a array/, path: '/rows' },
  // --- rows
  { name: 'a row that is an array', payload: withRow(4, () => [1, 2]), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/4 must be a object/, path: '/rows/4' },
  { name: 'a row that is null', payload: withRow(4, () => null), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/4 must be a object/, path: '/rows/4' },
  { name: 'treatment as a string', payload: withRow(17, (r) => ({ ...r, treatment: '1' })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/17\/treatment must be a integer.*id "R-17"/, path: '/rows/17/treatment' },
  { name: 'treatment 0.5', payload: withRow(17, (r) => ({ ...r, treatment: 0.5 })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/17\/treatment/, path: '/rows/17/treatment' },
  { name: 'treatment true', payload: withRow(17, (r) => ({ ...r, treatment: true })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/17\/treatment/, path: '/rows/17/treatment' },
  { name: 'treatment 1e400 (Infinity)', payload: base.replace('"treatment":0', '"treatment":1e400'), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/0\/treatment/, path: '/rows/0/treatment' },
  { name: 'outcome -1', payload: withRow(3, (r) => ({ ...r, outcome: -1 })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/3\/outcome must be 0 or 1/, path: '/rows/3/outcome' },
  { name: 'outcome missing', payload: withRow(3, (r) => ({ id: r.id, treatment: 0, features: {} })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/3\/outcome is required/, path: '/rows/3/outcome' },
  { name: 'id missing', payload: withRow(8, (r) => ({ treatment: r.treatment, outcome: 0, features: {} })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/8\/id is required/, path: '/rows/8/id' },
  { name: 'id a number', payload: withRow(8, (r) => ({ ...r, id: 8 })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/8\/id must be a string/, path: '/rows/8/id' },
  { name: 'id empty', payload: withRow(8, (r) => ({ ...r, id: '' })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/8\/id must not be empty/, path: '/rows/8/id' },
  { name: 'a 1 MB id', payload: withRow(2, (r) => ({ ...r, id: 'x'.repeat(1 << 20) })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/2\/id has 1048576 characters; at most 1024 .*MAX_ID_LENGTH/, path: '/rows/2/id' },
  { name: 'features missing', payload: withRow(5, (r) => ({ id: r.id, treatment: 0, outcome: 0 })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/5\/features is required/, path: '/rows/5/features' },
  { name: 'features an array', payload: withRow(5, (r) => ({ ...r, features: [1, 2] })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/5\/features must be a object/, path: '/rows/5/features' },
  { name: 'features null', payload: withRow(5, (r) => ({ ...r, features: null })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/5\/features must be a object/, path: '/rows/5/features' },
  { name: 'a boolean feature value', payload: withRow(6, (r) => ({ ...r, features: { ...r.features, vip: true } })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/6\/features\/vip must be a number, string or null/, path: '/rows/6/features/vip' },
  { name: 'a feature value nested 50 000 deep', payload: withRow(6, (r) => ({ ...r, features: { deep: '@' } })).replace('"@"', nested(50_000)), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/6\/features\/deep must be a number, string or null/, path: '/rows/6/features/deep' },
  { name: 'a feature value 1e400 (not a finite number)', payload: body({ rows: rows() }).replace('"score":', '"score":1e400,"was":'), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/0\/features\/score must be a number, string or null/, path: '/rows/0/features/score' },
  { name: '__proto__ feature with an object value', payload: withRow(0, (r) => ({ ...r, features: { x: 1 } })).replace('"features":{"x":1}', '"features":{"__proto__":{"polluted":1}}'), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/0\/features\/__proto__/, path: '/rows/0/features/__proto__' },
  { name: 'constructor.prototype feature', payload: withRow(0, (r) => ({ ...r, features: { constructor: { prototype: { polluted: 1 } } } })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/rows\/0\/features\/constructor/, path: '/rows/0/features/constructor' },
  // --- limits
  { name: '10 000 features in one row', payload: withRow(1, (r) => ({ ...r, features: wide })), status: 413, code: 'UPLIFT_LIMIT_EXCEEDED', says: /more than 1000 distinct feature names \(MAX_FEATURES\)/ },
  { name: '2 000 distinct feature names spread over rows', payload: body({ rows: rows(2000).map((r, i) => ({ ...r, features: { [`only_in_row_${i}`]: 1 } })) }), status: 413, code: 'UPLIFT_LIMIT_EXCEEDED', says: /MAX_FEATURES/ },
  { name: 'a 300-character feature name', payload: withRow(9, (r) => ({ ...r, features: { ['n'.repeat(300)]: 1 } })), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /feature name "n+\.\.\." has 300 characters; at most 256 .*MAX_FEATURE_NAME_LENGTH/ },
  { name: 'more rows than MAX_ROWS', payload: body({ rows: Array.from({ length: 5001 }, () => ({})) }), status: 413, code: 'UPLIFT_LIMIT_EXCEEDED', says: /Too many rows: 5001; at most 5000 rows per request \(MAX_ROWS\)/ },
  { name: 'body over BODY_LIMIT', payload: body({ pad: 'p'.repeat(5 * 1024 * 1024), rows: [] }), status: 413, code: 'UPLIFT_BODY_TOO_LARGE', says: /larger than the limit of 4194304 bytes \(BODY_LIMIT\)/ },
  // --- contamination and options
  { name: 'contamination as a string', payload: body({ contamination: '0.1', rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/contamination must be a number/, path: '/contamination' },
  { name: 'contamination null', payload: body({ contamination: null, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/contamination must be a number/, path: '/contamination' },
  { name: 'contamination 1', payload: body({ contamination: 1, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/contamination must be < 1/, path: '/contamination' },
  { name: 'contamination 1e400', payload: `{"contamination":1e400,"rows":${body(rows())}}`, status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/contamination must be a number/, path: '/contamination' },
  { name: 'contamination negative', payload: body({ contamination: -0.01, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/contamination must be >= 0/, path: '/contamination' },
  { name: 'options a string', payload: body({ options: 'fast', rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options must be a object/, path: '/options' },
  { name: 'unknown model', payload: body({ options: { model: 'xgboost' }, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/model must be one of "auto", "uplift_rf", "t_learner"/, path: '/options/model' },
  { name: 'model in upper case', payload: body({ options: { model: 'AUTO' }, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/model must be one of/, path: '/options/model' },
  { name: 'unknown option key', payload: body({ options: { turbo: true }, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/turbo is not allowed/, path: '/options/turbo' },
  { name: 'seed 2^32', payload: body({ options: { seed: 2 ** 32 }, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/seed must be <= 4294967295/, path: '/options/seed' },
  { name: 'seed as a string', payload: body({ options: { seed: '7' }, rows: rows() }), status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/seed must be a integer/, path: '/options/seed' },
  { name: 'seed -1e400', payload: `{"options":{"seed":-1e400},"rows":${body(rows())}}`, status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/seed/, path: '/options/seed' },
  // --- data rules
  { name: '199 rows', payload: body({ rows: rows(199) }), status: 422, code: 'UPLIFT_INSUFFICIENT_DATA', says: /at least 200 rows are required, got 199/ },
  { name: 'no control rows', payload: body({ rows: rows().map((r) => ({ ...r, treatment: 1 })) }), status: 422, code: 'UPLIFT_INSUFFICIENT_DATA', says: /250 treated and 0 control/ },
  { name: 'duplicate ids', payload: withRow(30, (r) => ({ ...r, id: 'R-3' })), status: 422, code: 'UPLIFT_DUPLICATE_ID', says: /Duplicate id "R-3" in rows 3, 30/ },
  // --- prototype keys elsewhere: ignored extra keys, nothing polluted (199 rows stop the request at 422)
  { name: '__proto__ at the top level', payload: `{"__proto__":{"polluted":1},"rows":${body(rows(199))}}`, status: 422, code: 'UPLIFT_INSUFFICIENT_DATA', says: /got 199/ },
  { name: '__proto__ inside a row', payload: body({ rows: rows(199) }).replace('{"id":"R-0"', '{"__proto__":{"treatment":1,"polluted":1},"id":"R-0"'), status: 422, code: 'UPLIFT_INSUFFICIENT_DATA', says: /got 199/ },
  { name: '__proto__ in options', payload: `{"options":{"__proto__":{"polluted":1}},"rows":${body(rows())}}`, status: 400, code: 'UPLIFT_INVALID_REQUEST', says: /\/options\/__proto__ is not allowed/, path: '/options/__proto__' },
];

t.test(`hostile battery: ${CASES.length} requests, each a specific 4xx naming the problem`, async (t) => {
  t.ok(CASES.length >= 40, `at least 40 cases (${CASES.length})`);
  const runner = forbiddenRunner();
  const { app, headers } = await makeApp({ runner, config: { bodyLimit: 4 * 1024 * 1024, rateLimitMax: 0, limits: { maxRows: 5000, maxFeatures: 1000, maxIdLength: 1024, maxFeatureNameLength: 256 } } });
  t.teardown(() => app.close());
  for (const c of CASES) {
    const h: Record<string, string> = { ...headers };
    if (c.contentType === null) delete h['content-type'];
    else if (c.contentType !== undefined) h['content-type'] = c.contentType;
    const res = await app.inject({ method: 'POST', url: URL, headers: h, payload: c.payload });
    let j: Record<string, any> = {};
    try {
      j = res.json();
    } catch {
      t.fail(`${c.name}: JSON body (got ${res.body.slice(0, 100)})`);
    }
    t.equal(res.statusCode, c.status, `${c.name}: ${c.status}${res.statusCode !== c.status ? ` (got ${res.body.slice(0, 300)})` : ''}`);
    t.equal(j.code, c.code, `${c.name}: ${c.code}`);
    t.equal(j.statusCode, res.statusCode, `${c.name}: statusCode in the body`);
    t.match(res.headers['content-type'], /^application\/json/, `${c.name}: JSON`);
    t.match(j.message, c.says, `${c.name}: the message names the problem`);
    if (c.path !== undefined) t.equal(j.details?.path, c.path, `${c.name}: details.path`);
    t.notMatch(res.body, /\.(ts|js|mjs):\d+|\n\s+at /, `${c.name}: no stack trace`);
    t.ok(res.body.length < 4000, `${c.name}: a small answer (${res.body.length} bytes), nothing echoed in bulk`);
  }
  t.equal(runner.calls, 0, 'nothing reached the worker pool');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype not polluted');
  t.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
});

t.test('limits are configurable: the same body passes or fails with the configured values', async (t) => {
  const { app, headers } = await makeApp({ runner: forbiddenRunner(), config: { limits: { maxRows: 300, maxFeatures: 2, maxIdLength: 3, maxFeatureNameLength: 4 } } });
  t.teardown(() => app.close());
  const post = (b: unknown) => app.inject({ method: 'POST', url: URL, headers, payload: body(b) });
  const r = (n: number, features: (i: number) => Record<string, unknown>) => rows(n).map((x, i) => ({ ...x, id: String(i), features: features(i) }));
  let res = await post({ rows: r(301, () => ({})) });
  t.equal(res.statusCode, 413, '301 rows > MAX_ROWS=300');
  t.same(res.json().details, { limit: 'MAX_ROWS', max: 300, value: 301 });
  res = await post({ rows: r(199, () => ({})).map((x, i) => ({ ...x, id: i === 150 ? 'R-150' : x.id })) });
  t.equal(res.statusCode, 400, 'a 5-character id > MAX_ID_LENGTH=3');
  t.same(res.json().details, { path: '/rows/150/id', rule: 'MAX_ID_LENGTH', limit: 'MAX_ID_LENGTH', max: 3, value: 5, row_index: 150 });
  t.match(res.json().message, /\/rows\/150\/id has 5 characters; at most 3 are allowed \(MAX_ID_LENGTH\)/);
  res = await post({ rows: r(199, (i) => (i < 100 ? { a: 1, b: 2 } : { a: 1, c: 3 })) });
  t.equal(res.statusCode, 413, 'a, b, c: 3 features > MAX_FEATURES=2');
  t.same(res.json().details, { limit: 'MAX_FEATURES', max: 2, value: 3, row_index: 100 });
  res = await post({ rows: r(199, () => ({ ab: 1, abcde: 2 })) });
  t.equal(res.statusCode, 400, 'a 5-character feature name > MAX_FEATURE_NAME_LENGTH=4');
  t.same(res.json().details, { path: '/rows/0/features/abcde', rule: 'MAX_FEATURE_NAME_LENGTH', limit: 'MAX_FEATURE_NAME_LENGTH', max: 4, value: 5, row_index: 0, row_id: '0' });
  res = await post({ rows: r(199, () => ({ ab: 1, abcd: 'z' })) });
  t.equal(res.statusCode, 422, 'within every limit: on to the data rules (199 rows)');
});

/** Wraps the in-process engine and keeps what the encoder reported. */
async function recordingRunner(): Promise<JobRunner & { reports: unknown[] }> {
  const real = await inProcessRunner();
  const reports: unknown[] = [];
  return {
    size: 1,
    queueSize: 0,
    reports,
    async run(task: PoolTask, o) {
      const out = (await real.run(task, o)) as { kind: string; prepared?: { data: { features: Array<{ name: string; nBins: number }>; report: unknown } } };
      if (out?.kind === 'prepared') reports.push({ features: out.prepared!.data.features.map((f) => [f.name, f.nBins]), report: out.prepared!.data.report });
      return out;
    },
    async close() {},
  };
}

t.test('odd but acceptable inputs through the real engine: 200', async (t) => {
  const runner = await recordingRunner();
  const { app, headers } = await makeApp({ runner, config: { rateLimitMax: 0 } });
  t.teardown(() => app.close());
  const post = (b: unknown) => app.inject({ method: 'POST', url: URL, headers, payload: typeof b === 'string' ? b : body(b) });
  const base300 = syntheticRows(300, 8);

  // A feature mixing numbers and strings is categorical.
  const mixed = base300.map((r, i) => ({ ...r, features: { ...r.features, plan: i % 4 === 0 ? 'none' : i % 3 } }));
  t.equal(toRawDataset(mixed).features.find((f) => f.name === 'plan')?.kind, 'categorical', 'mixed numbers/strings: categorical');
  let res = await post({ rows: mixed });
  t.equal(res.statusCode, 200, 'mixed feature accepted');

  // No usable feature anywhere: decided as a 200 with one score for all and a warning saying so.
  res = await post({ rows: base300.map((r) => ({ ...r, features: {} })) });
  t.equal(res.statusCode, 200, 'empty features everywhere: 200');
  const j = res.json();
  t.equal(new Set(j.details.map((d: { uplift_score: number }) => d.uplift_score)).size, 1, 'one uniform score');
  t.ok((j.warnings ?? []).some((w: { code: string }) => w.code === 'NO_HETEROGENEITY'), 'warning: effect looks uniform / targeting not supported');
  t.equal(j.details[0].uplift_score, j.average_treatment_effect, 'the uniform score is the ATE');

  // Unicode ids and feature names, returned verbatim in input order.
  const weird = ['ü-1', '客户-2', '🙂-3', 'עברית-4', 'e\u0301-5', 'zero\u200bwidth-6', '"quoted"\\-7', '\u0000nul-8'];
  const uni = base300.map((r, i) => ({ ...r, id: i < weird.length ? weird[i] : `${r.id}-ß`, features: { 'âge ✓': r.features.age, 'país': r.features.country, '🙂': i % 5 } }));
  res = await post({ rows: uni });
  t.equal(res.statusCode, 200, 'unicode ids and feature names');
  t.same(res.json().details.map((d: { id: string }) => d.id), uni.map((r) => r.id), 'ids verbatim, input order');
  t.ok(res.json().feature_importance.some((f: { feature: string }) => f.feature === 'âge ✓' || f.feature === 'país' || f.feature === '🙂'), 'unicode feature names kept');

  // 100 000 distinct levels of one categorical (one per row): accepted. Every level is rarer than the
  // encoder's pooling threshold, so all pool into one bin and the feature carries no information: it is
  // dropped (CONSTANT_FEATURES warning) instead of growing 100 000 bins. (The 254-level cap on frequent
  // levels is the next test.)
  runner.reports.length = 0;
  const many = syntheticRows(100_000, 6).map((r, i) => ({ ...r, features: { lvl: `L${i}` } }));
  res = await post({ rows: many });
  t.equal(res.statusCode, 200, '100 000 levels: 200');
  const rep = runner.reports[0] as { features: Array<[string, number]>; report: { droppedConstant: string[]; pooled: Array<{ feature: string; levels: number }> } };
  t.ok(rep, 'the encoder ran');
  t.ok(rep.report.droppedConstant.includes('lvl'), 'all 100 000 one-row levels pooled into one bin: feature dropped');
  t.notOk(rep.features.some(([name]) => name === 'lvl'), 'no 100 000-bin feature reaches the learners');
  t.ok(res.json().warnings?.some((w: { code: string; message: string }) => w.code === 'CONSTANT_FEATURES' && w.message.includes('lvl')), 'and the answer says so');
  t.ok(rep.features.every(([, nBins]) => nBins <= 256), 'at most 256 bins per feature');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('encoder level cap: ~58 000 distinct levels keep at most 254 levels + "(other)"', async (t) => {
  // 350 frequent levels (120 rows each) + 58 000 one-row levels.
  const n = 350 * 120 + 58_000;
  const lv = Array.from({ length: n }, (_, i) => (i < 42_000 ? `F${i % 350}` : `U${i}`));
  const raw = toRawDataset(lv.map((l, i) => ({ treatment: i % 2, outcome: (i >> 1) % 2, features: { lvl: l } })));
  const d = encode(raw);
  const f = d.features.find((x) => x.name === 'lvl');
  t.ok(f, 'kept');
  t.equal(f!.nBins, 256, 'missing + 254 levels + other');
  t.equal(f!.labels!.filter((l) => l.startsWith('F')).length, 254, 'the most frequent levels are the kept ones');
  t.ok(d.report.pooled.some((p) => p.feature === 'lvl' && p.levels === 58_000 + 96), 'the rest pooled');
});
