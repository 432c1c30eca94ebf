#!/usr/bin/env node
/**
 * Small-request bench (issue 5):  npm run build && npm run bench:small [-- options]
 *
 * Starts the compiled server (dist/src/server.js; `npm run build` first) on a free loopback port with a
 * fresh temporary key store and RATE_LIMIT_MAX=0, then:
 *
 * 1. autocannon, one case after another, `--connections` connections for `--duration` seconds each:
 *      health        GET /health
 *      401 secret    POST with a known API id and a wrong secret (each costs a full scrypt hash, by design)
 *      401 id        POST with an unknown API id (also a full scrypt hash, so ids cannot be probed)
 *      400 invalid   POST, valid key, a 200-row body whose row 17 has treatment "1" (schema failure)
 *      422 small     POST, valid key, a valid 50-row body (fewer than 200 rows: insufficient data)
 *    and prints req/s and latency p50 / p95 / p99 / max per case (latencies of every response recorded
 *    by this script: autocannon's own histogram keeps only 2xx). Every response must have the expected
 *    status, or the case is marked.
 * 2. Health under load: two 50 000-row lab persuadables requests (bench/out cache, as bench/e2e.mjs)
 *    posted at once; while they run, GET /health is polled on its own connection every `--poll` ms and
 *    its latency p50 / p95 / max printed (target: p95 <= 50 ms).
 *
 * Options: --duration 5  --connections 10  --poll 10  --cases health,401secret,401id,400,422  --load 0|1
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, SERVER, UPLIFT_PATH, post, quantile, startServer, table } from './lib/server.mjs';

function args(argv) {
  const o = { duration: 5, connections: 10, poll: 10, cases: null, load: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--duration') (o.duration = Number(v)), i++;
    else if (a === '--connections') (o.connections = Number(v)), i++;
    else if (a === '--poll') (o.poll = Number(v)), i++;
    else if (a === '--cases') (o.cases = v.split(',')), i++;
    else if (a === '--load') (o.load = Number(v)), i++;
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return o;
}

function rows(n, badAt = -1) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({ id: `r${i}`, treatment: i === badAt ? '1' : i % 2, outcome: (i >> 1) % 2, features: { age: 20 + (i % 50), country: i % 3 ? 'US' : 'BR' } });
  }
  return JSON.stringify({ rows: out });
}

/** One autocannon case; resolves with { rps, p50, p95, p99, max, n, statuses }. */
function cannon(o, srv, c) {
  return new Promise((resolve, reject) => {
    const lat = [];
    const statuses = {};
    const inst = autocannon(
      {
        url: srv.url + c.path,
        method: c.method,
        headers: c.headers,
        body: c.body,
        connections: o.connections,
        duration: o.duration,
      },
      (err, res) => {
        if (err) return reject(err);
        const secs = (res.finish - res.start) / 1000 || o.duration;
        resolve({
          rps: lat.length / secs,
          p50: quantile(lat, 0.5),
          p95: quantile(lat, 0.95),
          p99: quantile(lat, 0.99),
          max: lat.reduce((a, x) => (x > a ? x : a), 0),
          n: lat.length,
          errors: res.errors + res.timeouts,
          statuses,
        });
      },
    );
    inst.on('response', (_client, statusCode, _bytes, responseTime) => {
      lat.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
}

function getHealth(agent, url) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get(url + '/health', { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode }));
      })
      .on('error', reject);
  });
}

function lab50k() {
  const dir = path.join(ROOT, 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'persuadables-50000-s7.json');
  if (!existsSync(file)) {
    execFileSync(process.execPath, [path.resolve(ROOT, '../shared/lab/gen.mjs'), '--scenario', 'persuadables', '--rows', '50000', '--seed', '7', '--noise', '3', '--format', 'json', '--out', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readFileSync(file);
}

async function main() {
  const o = args(process.argv.slice(2));
  if (!existsSync(SERVER)) throw new Error(`${SERVER} not found: run \`npm run build\` first`);
  const srv = await startServer();
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  // Whatever ends this process (a signal, an uncaught error) takes the server down too.
  process.once('exit', () => srv.proc.exitCode === null && srv.proc.kill('SIGKILL'));
  try {
    console.log(`# uplift small-request bench  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cpus  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`# autocannon: ${o.connections} connections x ${o.duration} s per case, server ${srv.url}`);
    const json = { 'content-type': 'application/json' };
    const auth = { ...json, 'x-customer-api-id': srv.id, 'x-secret': srv.secret };
    const cases = [
      { name: 'health', label: 'GET /health', method: 'GET', path: '/health', expect: 200 },
      { name: '401secret', label: 'POST wrong secret', method: 'POST', path: UPLIFT_PATH, headers: { ...json, 'x-customer-api-id': srv.id, 'x-secret': 'not-the-secret-0123456789abcdef' }, body: rows(200), expect: 401 },
      { name: '401id', label: 'POST unknown id', method: 'POST', path: UPLIFT_PATH, headers: { ...json, 'x-customer-api-id': '00000000-0000-4000-8000-000000000000', 'x-secret': 'not-the-secret-0123456789abcdef' }, body: rows(200), expect: 401 },
      { name: '400', label: 'POST invalid row (400)', method: 'POST', path: UPLIFT_PATH, headers: auth, body: rows(200, 17), expect: 400 },
      { name: '422', label: 'POST 50 rows (422)', method: 'POST', path: UPLIFT_PATH, headers: auth, body: rows(50), expect: 422 },
    ].filter((c) => !o.cases || o.cases.includes(c.name));
    // Warm the credential memo (the first valid call hashes once).
    await post(srv, Buffer.from(rows(50)));
    const out = [];
    for (const c of cases) {
      const r = await cannon(o, srv, c);
      const bad = Object.entries(r.statuses).filter(([s]) => Number(s) !== c.expect);
      const f1 = (x) => x.toFixed(1);
      out.push([c.label, r.n, r.rps.toFixed(0), f1(r.p50), f1(r.p95), f1(r.p99), f1(r.max), bad.length || r.errors ? `UNEXPECTED ${JSON.stringify(r.statuses)} errors=${r.errors}` : `all ${c.expect}`]);
      process.stderr.write(`  ${c.label}: ${r.rps.toFixed(0)} req/s\n`);
    }
    console.log('\nSmall requests (latency ms)');
    console.log(table(['case', 'requests', 'req/s', 'p50', 'p95', 'p99', 'max', 'statuses'], out));

    if (o.load) {
      const body = lab50k();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      await getHealth(agent, srv.url);
      const lat = [];
      let done = false;
      const t0 = performance.now();
      const jobs = Promise.all([post(srv, body), post(srv, body)]).finally(() => (done = true));
      while (!done) {
        const h = await getHealth(agent, srv.url);
        if (h.status !== 200) throw new Error(`/health answered ${h.status}`);
        lat.push(h.ms);
        await new Promise((r) => setTimeout(r, o.poll));
      }
      const res = await jobs;
      const wall = performance.now() - t0;
      agent.destroy();
      console.log(`\nGET /health while two 50 000-row requests train (${res.map((r) => `${r.status} in ${Math.round(r.ms)} ms`).join(', ')}; ${(wall / 1000).toFixed(1)} s)`);
      console.log(table(['polls', 'p50', 'p95', 'p99', 'max', 'target p95'], [[lat.length, quantile(lat, 0.5).toFixed(1), quantile(lat, 0.95).toFixed(1), quantile(lat, 0.99).toFixed(1), lat.reduce((a, x) => (x > a ? x : a), 0).toFixed(1), quantile(lat, 0.95) <= 50 ? '<= 50 ms: met' : '> 50 ms: MISSED']]));
      if (res.some((r) => r.status !== 200)) throw new Error(`load requests failed: ${res.map((r) => r.status)}`);
    }
    console.log(`\n# loadavg at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await srv.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
