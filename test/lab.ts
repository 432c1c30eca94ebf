// Lab campaigns committed under test/fixtures/lab (see its README): a request body and the true uplift of
// every row, so accuracy guards run the same on any machine, with or without ../shared/lab.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./fixtures/lab/', import.meta.url));

export interface LabRow { id: string; treatment: number; outcome: number; features: Record<string, unknown> }
export interface LabCampaign { body: { contamination: number; rows: LabRow[] }; truth: Float64Array }

export function loadLab(name: string): LabCampaign {
  const body = JSON.parse(gunzipSync(readFileSync(dir + name + '.json.gz')).toString('utf8')) as LabCampaign['body'];
  const byId = new Map<string, number>();
  for (const line of gunzipSync(readFileSync(dir + name + '.truth.csv.gz')).toString('utf8').trim().split('\n').slice(1)) {
    const c = line.split(',');
    byId.set(c[0], Number(c[1]));
  }
  const truth = Float64Array.from(body.rows, (r) => {
    const v = byId.get(r.id);
    if (v === undefined || !Number.isFinite(v)) throw new Error(`${name}: no true uplift for ${r.id}`);
    return v;
  });
  return { body, truth };
}
