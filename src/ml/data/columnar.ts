/**
 * Row objects -> column-major RawDataset.
 *
 * One pass over the rows. Feature names are the union of own keys in first-seen order; a Map (never a
 * plain object) holds name -> column, so names like "__proto__" or "constructor" are ordinary names.
 * A column starts numeric (Float64Array, NaN = missing) and converts itself to categorical codes the
 * first time it meets a present value that is not a finite number; earlier numbers become String(v).
 */
import type { RawDataset, RawFeature } from '../types.js';

export interface InputRow {
  treatment: number;
  outcome: number;
  features: Readonly<Record<string, unknown>>;
}

interface Column {
  name: string;
  numeric: boolean;
  values: Float64Array | null;
  codes: Int32Array | null;
  levels: string[];
  levelIndex: Map<string, number>;
}

function levelOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

function newColumn(name: string, n: number): Column {
  const values = new Float64Array(n);
  values.fill(NaN);
  return { name, numeric: true, values, codes: null, levels: [], levelIndex: new Map() };
}

function codeFor(col: Column, level: string): number {
  let c = col.levelIndex.get(level);
  if (c === undefined) {
    c = col.levels.length;
    col.levels.push(level);
    col.levelIndex.set(level, c);
  }
  return c;
}

/** Converts a numeric column to categorical; rows before `upTo` keep their values as String(v) levels. */
function toCategorical(col: Column, n: number, upTo: number): void {
  const codes = new Int32Array(n).fill(-1);
  const values = col.values as Float64Array;
  for (let r = 0; r < upTo; r++) {
    const v = values[r];
    if (v === v) codes[r] = codeFor(col, String(v));
  }
  col.numeric = false;
  col.values = null;
  col.codes = codes;
}

function setValue(col: Column, n: number, r: number, v: unknown): void {
  if (v === null || v === undefined) return;
  if (col.numeric) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      (col.values as Float64Array)[r] = v;
      return;
    }
    toCategorical(col, n, r);
  }
  (col.codes as Int32Array)[r] = codeFor(col, typeof v === 'number' ? String(v) : levelOf(v));
}

export function toRawDataset(rows: ReadonlyArray<InputRow>): RawDataset {
  const n = rows.length;
  const treatment = new Uint8Array(n);
  const outcome = new Uint8Array(n);
  const byName = new Map<string, Column>();
  const columns: Column[] = [];
  // Column order of the previous row: rows usually share a key order, which skips the Map look-up.
  let lastKeys: string[] = [];
  let lastCols: Column[] = [];

  for (let r = 0; r < n; r++) {
    const row = rows[r];
    treatment[r] = row.treatment === 1 ? 1 : 0;
    outcome[r] = row.outcome === 1 ? 1 : 0;
    const f = row.features;
    if (f === null || typeof f !== 'object') continue;
    const keys = Object.keys(f); // own enumerable string keys only
    const vals = Object.values(f); // same order as Object.keys; avoids a keyed load per value
    const sameShape = keys.length === lastKeys.length;
    let cols = lastCols;
    let fresh = false;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      let col: Column | undefined;
      if (sameShape && !fresh && lastKeys[k] === key) {
        col = cols[k];
      } else {
        if (!fresh) {
          cols = lastCols.slice(0, k);
          fresh = true;
        }
        col = byName.get(key);
        if (col === undefined) {
          col = newColumn(key, n);
          byName.set(key, col);
          columns.push(col);
        }
        cols.push(col);
      }
      setValue(col, n, r, vals[k]);
    }
    if (fresh || !sameShape) {
      lastKeys = keys;
      lastCols = cols;
    }
  }

  const features: RawFeature[] = columns.map((c) =>
    c.numeric
      ? { name: c.name, kind: 'numeric', values: c.values as Float64Array }
      : { name: c.name, kind: 'categorical', levels: c.levels, codes: c.codes as Int32Array },
  );
  return { n, treatment, outcome, features };
}
