#!/usr/bin/env node
/**
 * npm run demo -- [--rows 5000] [--scenario persuadables] [--seed 1] [--url http://127.0.0.1:3000]
 *
 * Posts a generated randomized campaign to a running server (start it with `npm start`) and prints the
 * decile table. Data: ../shared/lab/gen.mjs when it exists (scenarios: demo, persuadables, lowsignal, null,
 * highcard), otherwise a small built-in generator (one scenario: older customers respond to the campaign).
 * Credentials: UPLIFT_API_ID + UPLIFT_SECRET from the environment, or --id/--secret; when absent, a key
 * named "demo" is created in the key store (UPLIFT_KEYS_FILE, default ./var/keys.json), which the
 * running server picks up within a second.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GEN = path.resolve(ROOT, '../shared/lab/gen.mjs');

function args(argv) {
  const o = { rows: 5000, scenario: 'persuadables', seed: 1, url: `http://127.0.0.1:${process.env.PORT || 3000}` };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (['rows', 'seed'].includes(k)) o[k] = Number(v), i++;
    else if (['scenario', 'url', 'id', 'secret', 'model'].includes(k)) o[k] = v, i++;
    else if (k === 'help' || k === 'h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

/** Built-in fallback: a randomized campaign where customers aged 40+ respond, the young barely. */
function builtinCampaign(n, seed) {
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const countries = ['US', 'BR', 'UK', 'CA', 'DE'];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const age = 18 + Math.floor(rnd() * 55);
    const prior = Math.floor(rnd() * 6);
    const t = rnd() < 0.5 ? 1 : 0;
    const p0 = 0.15 + 0.03 * prior;
    const p = p0 + (t ? (age >= 40 ? 0.15 : 0.01) : 0);
    rows.push({
      id: `D-${String(i + 1).padStart(6, '0')}`,
      treatment: t,
      outcome: rnd() < p ? 1 : 0,
      features: { age, country: countries[Math.floor(rnd() * countries.length)], prior_purchases: prior },
    });
  }
  return JSON.stringify({ contamination: 0, rows });
}

function campaign(o) {
  if (existsSync(GEN)) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'uplift-demo-'));
    try {
      const out = path.join(dir, 'req.json');
      execFileSync(process.execPath, [GEN, '--scenario', o.scenario, '--rows', String(o.rows), '--seed', String(o.seed), '--format', 'json', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
      return { body: readFileSync(out, 'utf8'), source: `../shared/lab/gen.mjs --scenario ${o.scenario}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { body: builtinCampaign(o.rows, o.seed), source: 'built-in generator' };
}

function credentials(o) {
  const id = o.id || process.env.UPLIFT_API_ID;
  const secret = o.secret || process.env.UPLIFT_SECRET;
  if (id && secret) return { id, secret };
  const cli = path.join(ROOT, 'dist/src/keys/cli.js');
  if (!existsSync(cli)) throw new Error('no credentials and dist/ not built: run `npm start` first or set UPLIFT_API_ID/UPLIFT_SECRET');
  const line = execFileSync(process.execPath, [cli, 'create', '--name', 'demo'], { encoding: 'utf8' }).trim();
  const k = JSON.parse(line);
  console.log(`created key "demo" ${k.customer_api_id} in ${process.env.UPLIFT_KEYS_FILE || './var/keys.json'}`);
  return { id: k.customer_api_id, secret: k.secret };
}

async function main() {
  const o = args(process.argv.slice(2));
  const { id, secret } = credentials(o);
  const { body, source } = campaign(o);
  let payload = body;
  if (o.model) {
    const j = JSON.parse(body);
    j.options = { ...(j.options || {}), model: o.model };
    payload = JSON.stringify(j);
  }
  console.log(`posting ${o.rows} rows (${source}, seed ${o.seed}, ${(payload.length / 1e6).toFixed(1)} MB) to ${o.url}`);
  // A newly created key reaches the running server within about a second.
  let res;
  let t0;
  for (let attempt = 0; attempt < 4; attempt++) {
    t0 = performance.now();
    res = await fetch(`${o.url}/api/v1/ai/uplift_model`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-customer-api-id': id, 'x-secret': secret },
      body: payload,
    });
    if (res.status !== 401 || o.id || process.env.UPLIFT_API_ID) break;
    await new Promise((r) => setTimeout(r, 700));
  }
  const ms = performance.now() - t0;
  const j = await res.json();
  if (res.status !== 200) {
    console.error(`HTTP ${res.status}: ${JSON.stringify(j)}`);
    process.exit(1);
  }
  console.log(`HTTP 200 in ${(ms / 1000).toFixed(2)} s; model ${j.model?.type ?? '?'}; ATE ${j.average_treatment_effect} (treated ${j.treatment_cr}, control ${j.control_cr})`);
  console.log('\ndecile  customers  mean_uplift');
  for (const d of j.decile_summary) {
    console.log(`${String(d.decile).padStart(6)}  ${String(d.n_customers).padStart(9)}  ${d.mean_uplift >= 0 ? '+' : ''}${d.mean_uplift.toFixed(4)}`);
  }
  console.log(`\n${j.interpretation}`);
}

main().catch((e) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
