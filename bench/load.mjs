#!/usr/bin/env node
/**
 * Load and overload runs against the real server process (dist/src/server.js; run `npm run build` first).
 *
 *   node bench/load.mjs [--duration 60] [--warmup 10] [--connections 50] [--big-connections 2]
 *                       [--big-rows 10000] [--log-level info]   (warm-up default 60 s)
 *
 *   Default run (issue 6): autocannon for `--duration` seconds with
 *     - `--connections` connections of small requests: 70% valid credentials posting the spec's 210-row
 *       example (10 customers, each soon over RATE_LIMIT_MAX), 30% invalid credentials (wrong secret,
 *       unknown id, missing secret);
 *     - `--big-connections` connections posting `--big-rows`-row jobs (a 12-feature synthetic campaign)
 *       as an 11th customer of their own.
 *   The same mix runs `--warmup` seconds first (repeated, up to 4 times, until a big job has completed).
 *   The warm-up is as long as the run by default: the server's RSS keeps rising for about the first
 *   minute of this mix (the V8 heaps of the event loop and of each worker thread grow to the size the
 *   load needs, and freed native memory is kept by the allocator) and then levels off, so a 20 s warm-up
 *   measured the climb, not a leak (a 120 s run ended at the same RSS as a 60 s one). The RSS is sampled
 *   every 5 s and printed as a trace. Prints the status-code counts, errors and timeouts, the
 *   server's RSS (VmRSS from /proc/PID/status) after the warm-up, right after the run and after 5 s
 *   idle, and checks the server is still healthy (GET /health, one valid job). PASS requires: only
 *   200/401/429/503, no errors or timeouts, the process alive, RSS right after the run <= 1.2 x RSS after
 *   the warm-up.
 *
 *   node bench/load.mjs --overload [--overload-rows 50000] [--overload-requests 6]
 *
 *   Starts the server with POOL_SIZE=1 MAX_QUEUE=1 and sends `--overload-requests` concurrent
 *   `--overload-rows`-row jobs. PASS requires: only 200s and 503s, every 503 with Retry-After, then
 *   /health 200, /ready 200 and a further job 200.
 *
 * The server runs with a fresh key store in a temp directory; its stdout (one log line per request) is
 * read and counted, not printed.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = path.join(ROOT, 'dist/src/server.js');
const URL_PATH = '/api/v1/ai/uplift_model';

function parseArgs(argv) {
  const o = {
    duration: 60,
    warmup: 60,
    connections: 50,
    'big-connections': 2,
    'big-rows': 10000,
    'log-level': 'info',
    overload: false,
    'overload-rows': 50000,
    'overload-requests': 6,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option --${k}`);
    if (typeof o[k] === 'boolean') o[k] = true;
    else o[k] = typeof o[k] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  return o;
}

/** A synthetic campaign: n rows, 12 features (numeric and categorical), a known heterogeneous effect. */
function campaign(n, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
  const countries = ['US', 'BR', 'UK', 'CA', 'DE', 'FR', 'MX', 'IN', 'JP', 'AU'];
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = rnd() < 0.5 ? 1 : 0;
    const age = 18 + Math.floor(rnd() * 60);
    const recency = Math.floor(rnd() * 365);
    const p = 0.08 + 0.1 * (recency < 60) + (t ? (age < 35 ? 0.08 : -0.01) : 0);
    rows[i] = {
      id: `L-${seed}-${i}`,
      treatment: t,
      outcome: rnd() < p ? 1 : 0,
      features: {
        age,
        country: countries[Math.floor(rnd() * rnd() * 10)],
        recency_days: recency,
        frequency: Math.floor(rnd() * 20),
        monetary: Math.round(rnd() * 50000) / 100,
        channel: ['email', 'web', 'app'][Math.floor(rnd() * 3)],
        tenure_months: Math.floor(rnd() * 120),
        opened_last: rnd() < 0.3 ? 1 : 0,
        segment: `S${Math.floor(rnd() * 8)}`,
        discount_used: rnd() < 0.2 ? 'yes' : 'no',
        visits: Math.floor(rnd() * 50),
        score: rnd() < 0.1 ? null : Math.round(rnd() * 1000) / 1000,
      },
    };
  }
  return JSON.stringify({ contamination: 0, rows });
}

/** CPU seconds (user + system, all threads) the process has used so far. */
function cpuS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function latencySummary(list, from) {
  const by = (rows) => list.slice(from).filter((d) => (rows === 'small' ? d.rows < 1000 : d.rows >= 1000));
  const q = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
  const out = {};
  for (const k of ['small', 'big']) {
    const a = by(k).map((d) => d.duration_ms).sort((x, y) => x - y);
    out[k] = { n: a.length, p50_ms: q(a, 0.5), p90_ms: q(a, 0.9), max_ms: a.length ? a[a.length - 1] : NaN };
  }
  return out;
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the server; resolves with its port, the printed key, and helpers. */
async function startServer(env) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uplift-load-'));
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', UPLIFT_KEYS_FILE: path.join(dir, 'keys.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logCounts = { lines: 0, errors: 0 };
  const firstErrors = [];
  /** Scored requests (from the server's log lines): rows, job_ms, duration_ms. */
  const done200 = [];
  let buf = '';
  let port = null;
  let key = null;
  let ready = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      logCounts.lines++;
      if (line.startsWith('{"customer_api_id"')) key = JSON.parse(line);
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) port = Number(m[1]);
      if (line.includes('worker pool ready')) ready = true;
      if (line.includes('"msg":"request completed"') && line.includes('"statusCode":200') && line.includes(URL_PATH)) {
        try {
          const j = JSON.parse(line);
          done200.push({ rows: j.rows, job_ms: j.job_ms, duration_ms: j.duration_ms });
        } catch {
          /* not JSON */
        }
      }
      if (line.startsWith('{"level":5') || line.startsWith('{"level":6')) {
        logCounts.errors++;
        if (firstErrors.length < 3) firstErrors.push(line.slice(0, 400));
      }
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  const exit = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 600 && !(port && ready && key); i++) await sleep(50);
  if (!(port && ready && key)) throw new Error(`server did not start: ${stderr}`);
  return {
    child,
    port,
    key,
    base: `http://127.0.0.1:${port}`,
    logCounts,
    firstErrors,
    done200,
    exit,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      child.kill('SIGTERM');
      const r = await exit;
      rmSync(dir, { recursive: true, force: true });
      return r;
    },
    async createKeys(n) {
      // The keys CLI writes the same store; the server picks the keys up within a second.
      const { execFileSync } = await import('node:child_process');
      const keys = [];
      for (let i = 0; i < n; i++) {
        const out = execFileSync(process.execPath, [path.join(ROOT, 'dist/src/keys/cli.js'), 'create', '--name', `load-${i}`], {
          env: { ...process.env, UPLIFT_KEYS_FILE: path.join(dir, 'keys.json') },
          encoding: 'utf8',
        });
        keys.push(JSON.parse(out.trim()));
      }
      await sleep(1200);
      return keys;
    },
  };
}

function runCannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function addCounts(total, res) {
  for (const [code, v] of Object.entries(res.statusCodeStats ?? {})) total[code] = (total[code] ?? 0) + v.count;
  total.errors = (total.errors ?? 0) + res.errors;
  total.timeouts = (total.timeouts ?? 0) + res.timeouts;
  return total;
}

async function mixedLoad(srv, keys, o, seconds) {
  const small = readFileSync(path.join(ROOT, 'test/fixtures/example-request.json'), 'utf8');
  const big = campaign(o['big-rows'], 7);
  const json = { 'content-type': 'application/json' };
  const auth = (k) => ({ ...json, 'x-customer-api-id': k.customer_api_id, 'x-secret': k.secret });
  // Keys 0..n-2 send the small requests; the last key is the big jobs' own customer.
  const smallKeys = keys.slice(0, -1);
  const validReqs = smallKeys.map((k) => ({ method: 'POST', path: URL_PATH, headers: auth(k), body: small }));
  const unknownId = { customer_api_id: '0f8fad5b-d9cb-469f-a165-70867728950e', secret: keys[0].secret };
  const invalidReqs = [
    { method: 'POST', path: URL_PATH, headers: auth({ ...keys[0], secret: 'wrong-secret-wrong-secret-wrong-secret-000' }), body: small },
    { method: 'POST', path: URL_PATH, headers: auth(unknownId), body: small },
    { method: 'POST', path: URL_PATH, headers: { ...json, 'x-customer-api-id': keys[1].customer_api_id }, body: small },
  ];
  const validConns = Math.round(o.connections * 0.7);
  const common = { url: srv.base, duration: seconds, timeout: 300, excludeErrorStats: false };
  const runs = await Promise.all([
    runCannon({ ...common, connections: validConns, requests: validReqs }),
    runCannon({ ...common, connections: o.connections - validConns, requests: invalidReqs }),
    o['big-connections'] > 0
      ? runCannon({ ...common, connections: o['big-connections'], requests: [{ method: 'POST', path: URL_PATH, headers: auth(keys[keys.length - 1]), body: big }] })
      : null,
  ]);
  const counts = {};
  for (const r of runs) if (r) addCounts(counts, r);
  return { counts, small: addCounts({}, runs[0]), invalid: addCounts({}, runs[1]), big: runs[2] ? addCounts({}, runs[2]) : null, bigBytes: big.length };
}

async function healthCheck(srv, key) {
  const health = await fetch(`${srv.base}/health`).then((r) => r.status, (e) => String(e));
  const body = readFileSync(path.join(ROOT, 'test/fixtures/example-request.json'), 'utf8');
  const headers = { 'content-type': 'application/json', 'x-customer-api-id': key.customer_api_id, 'x-secret': key.secret };
  let job = null;
  // The pool may still be draining queued jobs: retry a 503 a few times, honouring Retry-After.
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${srv.base}${URL_PATH}`, { method: 'POST', headers, body });
    job = r.status;
    await r.arrayBuffer();
    if (r.status !== 503 && r.status !== 429) break;
    await sleep(1000 * Math.min(5, Number(r.headers.get('retry-after') ?? 1)));
  }
  const ready = await fetch(`${srv.base}/ready`).then((r) => r.status, (e) => String(e));
  return { health, ready, job };
}

async function loadRun(o) {
  const srv = await startServer({ LOG_LEVEL: o['log-level'] });
  console.log(`server pid ${srv.child.pid} on ${srv.base}; POOL_SIZE default (${os.availableParallelism?.() ?? os.cpus().length} cores), MAX_QUEUE 8, RATE_LIMIT_MAX 600/60 s`);
  const keys = await srv.createKeys(11);
  const rss0 = rssKb(srv.child.pid);
  const t00 = Date.now();
  const trace = [];
  const sampler = setInterval(() => {
    if (srv.alive()) trace.push(`${Math.round((Date.now() - t00) / 1000)}s:${Math.round(rssKb(srv.child.pid) / 1024)}`);
  }, 5000).unref();
  console.log(`RSS at start: ${(rss0 / 1024).toFixed(1)} MiB; warm-up ${o.warmup} s...`);
  // The warm-up must exercise every path, the big jobs included: repeat it (up to 4 rounds) until at
  // least one big job has been answered 200.
  let warm;
  for (let round = 1; round <= 4; round++) {
    warm = await mixedLoad(srv, keys, o, o.warmup);
    console.log(`warm-up round ${round} status counts: ${JSON.stringify(warm.counts)}; big jobs ${JSON.stringify(warm.big)}`);
    if (!warm.big || (warm.big['200'] ?? 0) > 0) break;
  }
  const rssWarm = rssKb(srv.child.pid);
  console.log(`RSS after warm-up: ${(rssWarm / 1024).toFixed(1)} MiB; run ${o.duration} s: ${o.connections} small connections (${Math.round(o.connections * 0.7)} valid / ${o.connections - Math.round(o.connections * 0.7)} invalid auth) + ${o['big-connections']} x ${o['big-rows']}-row jobs (${(warm.bigBytes / 1e6).toFixed(1)} MB bodies)`);
  const t0 = Date.now();
  const cpu0 = cpuS(srv.child.pid);
  const from = srv.done200.length;
  const run = await mixedLoad(srv, keys, o, o.duration);
  const wall = (Date.now() - t0) / 1000;
  const serverCpu = srv.alive() ? cpuS(srv.child.pid) - cpu0 : NaN;
  const alive = srv.alive();
  const rssAfter = alive ? rssKb(srv.child.pid) : NaN;
  await sleep(5000);
  const rssIdle = srv.alive() ? rssKb(srv.child.pid) : NaN;
  clearInterval(sampler);
  const check = alive ? await healthCheck(srv, keys[0]) : null;
  console.log(`\nrun (${wall.toFixed(1)} s) status counts, all connections: ${JSON.stringify(run.counts)}`);
  console.log(`  small valid:   ${JSON.stringify(run.small)}`);
  console.log(`  small invalid: ${JSON.stringify(run.invalid)}`);
  console.log(`  big jobs:      ${JSON.stringify(run.big)}`);
  console.log(`scored requests during the run (server log, request duration): ${JSON.stringify(latencySummary(srv.done200, from))}`);
  console.log(`server CPU during the run: ${serverCpu.toFixed(1)} s over ${wall.toFixed(1)} s (${(serverCpu / wall).toFixed(2)} cores of ${os.availableParallelism?.() ?? os.cpus().length}); machine load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`RSS: after warm-up ${(rssWarm / 1024).toFixed(1)} MiB, right after the run ${(rssAfter / 1024).toFixed(1)} MiB (x${(rssAfter / rssWarm).toFixed(3)}), after 5 s idle ${(rssIdle / 1024).toFixed(1)} MiB (x${(rssIdle / rssWarm).toFixed(3)})`);
  console.log(`RSS trace (MiB, every 5 s from the start of the warm-up; the run starts at ${Math.round((t0 - t00) / 1000)} s): ${trace.join(' ')}`);
  console.log(`after the run: ${JSON.stringify(check)}; server log lines ${srv.logCounts.lines}, error/fatal lines ${srv.logCounts.errors}`);
  for (const l of srv.firstErrors) console.log(`  error line: ${l}`);
  const allowed = new Set(['200', '401', '429', '503']);
  const codes = Object.keys(run.counts).filter((k) => /^\d+$/.test(k));
  const problems = [];
  if (!alive) problems.push('server died');
  const bad = codes.filter((c) => !allowed.has(c));
  if (bad.length) problems.push(`unexpected status codes ${bad.join(', ')}`);
  if (run.counts.errors || run.counts.timeouts) problems.push(`${run.counts.errors} errors, ${run.counts.timeouts} timeouts`);
  if (!(rssAfter <= 1.2 * rssWarm)) problems.push(`RSS grew x${(rssAfter / rssWarm).toFixed(3)} > 1.2`);
  if (!check || check.health !== 200 || check.job !== 200) problems.push(`not healthy after the run: ${JSON.stringify(check)}`);
  const exit = await srv.stop();
  console.log(`SIGTERM -> exit ${JSON.stringify(exit)}`);
  console.log(problems.length ? `FAIL: ${problems.join('; ')}` : 'PASS: only 200/401/429/503, no crash, RSS within 1.2x, healthy after');
  return problems.length === 0;
}

async function overloadRun(o) {
  const srv = await startServer({ LOG_LEVEL: o['log-level'], POOL_SIZE: '1', MAX_QUEUE: '1' });
  console.log(`server pid ${srv.child.pid}: POOL_SIZE=1 MAX_QUEUE=1; ${o['overload-requests']} concurrent ${o['overload-rows']}-row requests`);
  const body = campaign(o['overload-rows'], 11);
  console.log(`body ${(body.length / 1e6).toFixed(1)} MB`);
  const headers = { 'content-type': 'application/json', 'x-customer-api-id': srv.key.customer_api_id, 'x-secret': srv.key.secret };
  const t0 = Date.now();
  const results = await Promise.all(
    Array.from({ length: o['overload-requests'] }, async (_, i) => {
      const r = await fetch(`${srv.base}${URL_PATH}`, { method: 'POST', headers, body });
      const j = await r.json();
      return { i, status: r.status, retryAfter: r.headers.get('retry-after'), code: j.code, rows: j.details?.length, s: ((Date.now() - t0) / 1000).toFixed(1) };
    }),
  );
  for (const r of results) console.log(`  request ${r.i}: ${r.status}${r.code ? ` ${r.code}` : ''}${r.retryAfter ? ` Retry-After: ${r.retryAfter}` : ''}${r.rows ? ` (${r.rows} rows scored)` : ''} after ${r.s} s`);
  const rss = rssKb(srv.child.pid);
  const check = await healthCheck(srv, srv.key);
  console.log(`after: ${JSON.stringify(check)}; RSS ${(rss / 1024).toFixed(1)} MiB; error/fatal log lines ${srv.logCounts.errors}`);
  const problems = [];
  if (results.some((r) => r.status !== 200 && r.status !== 503)) problems.push('a status other than 200/503');
  if (results.some((r) => r.status === 503 && !/^\d+$/.test(r.retryAfter ?? ''))) problems.push('a 503 without Retry-After');
  if (!results.some((r) => r.status === 200)) problems.push('no 200');
  if (check.health !== 200 || check.ready !== 200 || check.job !== 200) problems.push('not healthy afterwards');
  const exit = await srv.stop();
  console.log(`SIGTERM -> exit ${JSON.stringify(exit)}`);
  console.log(problems.length ? `FAIL: ${problems.join('; ')}` : 'PASS: only 200s and 503s with Retry-After; healthy afterwards');
  return problems.length === 0;
}

const o = parseArgs(process.argv.slice(2));
const ok = await (o.overload ? overloadRun(o) : loadRun(o));
process.exit(ok ? 0 : 1);
