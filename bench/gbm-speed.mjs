#!/usr/bin/env node
// Fit/predict speed of the GBM and the T-learner (runs dist/; `npm run build` first).
//   node bench/gbm-speed.mjs [--scenario persuadables] [--rows 50000] [--reps 5] [--grid 0,1]
// Times one T-learner fit on 2/3 of the rows (a CV fold's training set, ~33k rows for 50k) and on all
// rows, and predicting all rows. Reports the median and min of --reps runs of process CPU time
// (less sensitive than wall time to other processes on this shared 2-core machine) and wall time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { toRawDataset } = await import(join(root, 'dist/src/ml/data/columnar.js'));
const { encode } = await import(join(root, 'dist/src/ml/data/encode.js'));
const { fitTLearner } = await import(join(root, 'dist/src/ml/boosting/tlearner.js'));
const { TLEARNER_GRID } = await import(join(root, 'dist/src/ml/boosting/defaults.js'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const sc = args.scenario ?? 'persuadables';
const rowsN = Number(args.rows ?? 50000);
const reps = Number(args.reps ?? 5);
const grid = (args.grid ?? TLEARNER_GRID.map((_, i) => i).join(',')).split(',').map(Number);
const dir = '/tmp/gbm-bench';
mkdirSync(dir, { recursive: true });
const req = join(dir, `${sc}-${rowsN}-7.json`);
if (!existsSync(req)) {
  execFileSync('node', [join(root, '..', 'shared', 'lab', 'gen.mjs'), '--scenario', sc, '--rows', String(rowsN), '--seed', '7', '--format', 'json', '--out', req, '--truth', req + '.truth.csv']);
}
const data = encode(toRawDataset(JSON.parse(readFileSync(req, 'utf8')).rows));
const all = Uint32Array.from({ length: data.n }, (_, i) => i);
const twoThirds = all.filter((i) => i % 3 !== 0);

function time(fn) {
  const cpu = [], wall = [];
  let out;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    out = fn(r);
    wall.push(performance.now() - w0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  return { out, cpu: cpu[reps >> 1], cpuMin: cpu[0], wall: wall[reps >> 1] };
}
const f = (x) => x.toFixed(0).padStart(6);
console.log(`${sc} rows=${data.n} features=${data.features.length} reps=${reps}  (ms: median cpu / min cpu / median wall)`);
for (const gi of grid) {
  const cfg = TLEARNER_GRID[gi];
  const a = time((r) => fitTLearner(data, twoThirds, cfg, r + 1));
  const b = time((r) => fitTLearner(data, all, cfg, r + 1));
  const p = time(() => b.out.predict(data));
  console.log(`grid[${gi}] ${JSON.stringify(cfg)}`);
  console.log(`  fit 2/3 rows (${twoThirds.length}): ${f(a.cpu)} ${f(a.cpuMin)} ${f(a.wall)}`);
  console.log(`  fit all rows (${all.length}): ${f(b.cpu)} ${f(b.cpuMin)} ${f(b.wall)}`);
  console.log(`  predict all rows:        ${f(p.cpu)} ${f(p.cpuMin)} ${f(p.wall)}`);
}
