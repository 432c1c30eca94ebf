// Lab data for the benches: a cached ../shared/lab/gen.mjs campaign, and scores judged by
// ../shared/lab/evaluate.mjs against its known true uplift.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'lab');

/**
 * The request body and truth file of one lab campaign, generated once into `req` / `truth` (paths)
 * and read from there afterwards. Returns { body, req, truth }.
 */
export function labCampaign({ scenario, rows, seed, req, truth }) {
  if (!existsSync(req) || !existsSync(truth)) {
    mkdirSync(dirname(req), { recursive: true });
    mkdirSync(dirname(truth), { recursive: true });
    execFileSync(process.execPath, [join(LAB, 'gen.mjs'), '--scenario', scenario, '--rows', String(rows), '--seed', String(seed),
      '--format', 'json', '--out', req, '--truth', truth]);
  }
  return { body: JSON.parse(readFileSync(req, 'utf8')), req, truth };
}

/** x rounded to 4 decimals as the API returns scores (no -0). */
export const round4 = (x) => { const r = Math.round(x * 1e4) / 1e4; return r === 0 ? 0 : r; };

/**
 * evaluate.mjs's JSON for `scores` (one per id, rounded to 4 decimals here) against `truth`, written to
 * `csv` first; with `data` (the request file) it also computes the Qini.
 */
export function evaluateScores({ ids, scores, truth, csv, data }) {
  writeFileSync(csv, 'id,uplift\n' + ids.map((id, i) => `${id},${round4(scores[i])}`).join('\n') + '\n');
  const args = [join(LAB, 'evaluate.mjs'), '--scores', csv, '--truth', truth, ...(data ? ['--data', data] : [])];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 }));
}
