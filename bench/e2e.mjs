#!/usr/bin/env node
/**
 * End-to-end latency bench (issue 5):  npm run build && npm run bench [-- options]
 *
 * Starts the COMPILED server (dist/src/server.js; run `npm run build` first, or pass --build) on a free
 * loopback port with a fresh temporary key store (the key the server creates on its first start is
 * read from its stdout) and RATE_LIMIT_MAX=0, JOB_TIMEOUT_S=0. Generates lab `persuadables` campaigns
 * with 12 features (node ../shared/lab/gen.mjs --noise 3: 9 business + 3 noise features) once, cached
 * in bench/out/ (gitignored), posts each one with the default options (model "auto", default seed) and
 * prints per size:
 *   - end-to-end latency (client: request start -> last response byte): median, min, max of the runs;
 *   - ms per 1 000 rows (linearity);
 *   - server peak RSS (VmHWM of the server process; reset before each size through
 *     /proc/<pid>/clear_refs when the kernel allows, otherwise the peak so far - sizes run ascending);
 *   - where the time goes, medians over the runs, from the server's one JSON log line per request
 *     ("request completed", matched by X-Request-Id): auth+read+parse, validate, columns (data checks,
 *     rows -> columns), prepare (encode), cv, select, final fit, finish (scoring + summaries), build
 *     (response object), serialize, plus "other" (= total - the phases: response transfer, client).
 *
 * Options:
 *   --sizes 10000,50000,200000,1000000   (k/M suffixes allowed: 10k,50k,200k,1M)
 *   --repeat N        runs per size (default: 3 for sizes <= 200 000, 1 above)
 *   --scenario S      lab scenario (default persuadables)    --seed S   lab seed (default 7)
 *   --model M         options.model to send (default: none = the server's default "auto")
 *   --pool-size N     POOL_SIZE for the server (default: the server's default, the core count)
 *   --warmup 0|1      one untimed 10 000-row request first (default 1)
 *   --build           run `npm run build` before starting
 *   --json FILE       also write the results as JSON
 *   --url URL --id ID --secret S   bench an already running server instead (no RSS / logs then)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, SERVER, cpuMs, median, post, procStatus, resetPeak, startServer, table } from './lib/server.mjs';

const OUT = path.join(ROOT, 'bench', 'out');
const GEN = path.resolve(ROOT, '../shared/lab/gen.mjs');

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const mult = m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

function args(argv) {
  const o = { sizes: [10_000, 50_000, 200_000, 1_000_000], repeat: null, scenario: 'persuadables', seed: 7, model: null, poolSize: null, warmup: 1, build: false, json: null, url: null, id: null, secret: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--sizes': o.sizes = v.split(',').map(parseSize); i++; break;
      case '--repeat': o.repeat = Number(v); i++; break;
      case '--scenario': o.scenario = v; i++; break;
      case '--seed': o.seed = Number(v); i++; break;
      case '--model': o.model = v; i++; break;
      case '--pool-size': o.poolSize = Number(v); i++; break;
      case '--warmup': o.warmup = Number(v); i++; break;
      case '--build': o.build = true; break;
      case '--json': o.json = v; i++; break;
      case '--url': o.url = v; i++; break;
      case '--id': o.id = v; i++; break;
      case '--secret': o.secret = v; i++; break;
      case '--help': case '-h':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  o.sizes.sort((a, b) => a - b);
  return o;
}

/** The cached lab request body for `rows` rows (generated on first use). */
function dataset(o, rows) {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${o.scenario}-${rows}-s${o.seed}.json`);
  if (!existsSync(file)) {
    if (!existsSync(GEN)) throw new Error(`lab generator not found: ${GEN}`);
    process.stderr.write(`generating ${file} ...\n`);
    execFileSync(process.execPath, [GEN, '--scenario', o.scenario, '--rows', String(rows), '--seed', String(o.seed), '--noise', '3', '--format', 'json', '--out', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  let body = readFileSync(file);
  if (o.model) {
    const j = JSON.parse(body.toString('utf8'));
    j.options = { ...(j.options ?? {}), model: o.model };
    body = Buffer.from(JSON.stringify(j));
  }
  return body;
}

const PHASES = [
  ['auth_read_parse_ms', 'read+parse'],
  ['validate_ms', 'validate'],
  ['columns_ms', 'columns'],
  ['prepare_ms', 'encode'],
  ['cv_ms', 'cv'],
  ['select_ms', 'select'],
  ['final_ms', 'final'],
  ['score_ms', 'score'],
  ['rand_wait_ms', 'rand wait'],
  ['finish_ms', 'finish'],
  ['build_ms', 'build'],
  ['serialize_ms', 'serialize'],
];

const fmtMs = (x) => (Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${Math.round(x)}`) : '-');
const fmtRows = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));

async function main() {
  const o = args(process.argv.slice(2));
  if (!o.url) {
    if (o.build) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (!existsSync(SERVER)) throw new Error(`${SERVER} not found: run \`npm run build\` first (or pass --build)`);
  }
  const srv = o.url
    ? { url: o.url, id: o.id, secret: o.secret, proc: null, log: async () => undefined, stop: async () => undefined }
    : await startServer(o.poolSize ? { POOL_SIZE: String(o.poolSize) } : {});
  const pid = srv.proc?.pid;
  // Ctrl-C / kill: take the server down too.
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  process.once('exit', () => srv.proc && srv.proc.exitCode === null && srv.proc.kill('SIGKILL'));
  const results = [];
  try {
    console.log(`# uplift e2e bench  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cpus  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`# scenario ${o.scenario} (lab seed ${o.seed}, 12 features), model ${o.model ?? 'default (auto)'}, server ${srv.url}${o.poolSize ? `, POOL_SIZE=${o.poolSize}` : ''}`);
    if (o.warmup) {
      const w = await post(srv, dataset(o, 10_000));
      if (w.status !== 200) throw new Error(`warm-up request failed: ${w.status} ${w.text.slice(0, 500)}`);
      console.log(`# warm-up 10k: ${Math.round(w.ms)} ms (not counted)`);
    }
    for (const n of o.sizes) {
      const body = dataset(o, n);
      const repeat = o.repeat ?? (n <= 200_000 ? 3 : 1);
      const peakReset = pid ? resetPeak(pid) : false;
      const runs = [];
      for (let r = 0; r < repeat; r++) {
        const cpu0 = pid ? cpuMs(pid) : null;
        const res = await post(srv, body, { keepText: r === 0 });
        const cpu = pid && cpu0 !== null ? cpuMs(pid) - cpu0 : null;
        if (res.status !== 200) throw new Error(`${n} rows: HTTP ${res.status} ${res.text.slice(0, 500)}`);
        if (r === 0) {
          const j = JSON.parse(res.text);
          if (!Array.isArray(j.details) || j.details.length !== n) throw new Error(`${n} rows: ${j.details?.length} details`);
          runs.model = `${j.model.type}${j.model.type === 'uplift_rf' ? ` ${j.model.criterion}` : ''}`;
          runs.chosen = j.model.cv.reduce((b, c, i, a) => (c.mean_qini > a[b].mean_qini ? i : b), 0);
          res.text = '';
        }
        // the log line is written once the response has been sent
        const log = await srv.log(res.reqId);
        runs.push({ ms: res.ms, cpu_ms: cpu, bytes: res.bytes, timings: log?.timings ?? null, duration_ms: log?.duration_ms ?? null, job_ms: log?.job_ms ?? null });
        process.stderr.write(`  ${fmtRows(n)} run ${r + 1}/${repeat}: ${Math.round(res.ms)} ms\n`);
      }
      const peak = pid ? procStatus(pid, 'VmHWM') : null;
      const ms = runs.map((r) => r.ms);
      const phases = {};
      for (const [k] of PHASES) phases[k] = median(runs.map((r) => r.timings?.[k]).filter((x) => typeof x === 'number'));
      const otherOf = (r) => (r.timings ? r.ms - PHASES.reduce((s, [k]) => s + (r.timings[k] ?? 0), 0) : NaN);
      results.push({
        rows: n,
        runs: runs.length,
        median_ms: median(ms),
        min_ms: Math.min(...ms),
        max_ms: Math.max(...ms),
        ms_per_1k_rows: median(ms) / (n / 1000),
        server_cpu_ms: median(runs.map((r) => r.cpu_ms ?? NaN)),
        peak_rss_bytes: peak,
        peak_reset: peakReset,
        response_bytes: runs[0].bytes,
        model: runs.model,
        phases_median_ms: phases,
        other_ms: median(runs.map(otherOf)),
        per_run: runs,
      });
    }
    console.log('\nEnd-to-end latency (client-measured), server peak RSS');
    console.log(table(
      ['rows', 'runs', 'median', 'min', 'max', 'ms/1k rows', 'server CPU', 'CPU/cores', 'peak RSS', 'response', 'model'],
      results.map((r) => [
        fmtRows(r.rows), r.runs, fmtMs(r.median_ms), fmtMs(r.min_ms), fmtMs(r.max_ms), r.ms_per_1k_rows.toFixed(1),
        fmtMs(r.server_cpu_ms), fmtMs(r.server_cpu_ms / os.cpus().length),
        r.peak_rss_bytes ? `${Math.round(r.peak_rss_bytes / 2 ** 20)} MB${r.peak_reset ? '' : '*'}` : '-',
        `${(r.response_bytes / 2 ** 20).toFixed(1)} MB`, r.model,
      ]),
    ));
    console.log('(server CPU = user + system time of the server process, all threads, per request (median); CPU/cores = the\n latency floor on an otherwise idle machine with perfect packing (event-loop work included): compare it with the median when the load average is high)');
    if (results.some((r) => r.peak_rss_bytes && !r.peak_reset)) console.log('(* peak RSS could not be reset: the peak since the server started)');
    console.log('\nWhere the time goes (server log, ms, median over runs; other = e2e - phases: upload/response transfer, client)');
    console.log(table(
      ['rows', ...PHASES.map(([, l]) => l), 'other', 'e2e'],
      results.map((r) => [fmtRows(r.rows), ...PHASES.map(([k]) => fmtMs(r.phases_median_ms[k])), fmtMs(r.other_ms), fmtMs(r.median_ms)]),
    ));
    const CPU = [['cpu_prepare_ms', 'encode'], ['cpu_cv_ms', 'cv'], ['cpu_randomization_ms', 'randomization'], ['cpu_select_ms', 'select'], ['cpu_final_ms', 'final'], ['cpu_score_ms', 'score'], ['cpu_importance_ms', 'importance'], ['cpu_finish_ms', 'finish']];
    if (results.some((r) => r.per_run[0]?.timings?.cpu_cv_ms !== undefined)) {
      console.log('\nWorker time (ms inside worker tasks, median over runs) and pool use = worker time / (job wall time x pool threads)');
      console.log(table(
        ['rows', ...CPU.map(([, l]) => l), 'total', 'job wall', 'pool use'],
        results.map((r) => {
          const c = CPU.map(([k]) => median(r.per_run.map((x) => x.timings?.[k] ?? 0)));
          const total = c.reduce((a, b) => a + b, 0);
          const job = median(r.per_run.map((x) => x.job_ms ?? NaN));
          return [fmtRows(r.rows), ...c.map(fmtMs), fmtMs(total), fmtMs(job), `${Math.round((100 * total) / (job * (o.poolSize ?? r.pool_size ?? os.cpus().length)))} %`];
        }),
      ));
    }
    console.log(`\n# loadavg at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores: above 2 means other processes competed for the CPU)`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), options: o, results }, null, 2));
  } finally {
    await srv.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
