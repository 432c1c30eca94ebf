/**
 * Data checks that a JSON schema cannot express (SPEC.md "Data sufficiency"), run on the event loop after
 * schema validation and before any work is queued. Both are single passes over the rows.
 */
import type { RequestLimitsConfig } from '../config.js';
import { DuplicateId, fail, InsufficientData, InvalidRequest, LimitExceeded } from '../errors.js';

export const MIN_ROWS = 200;

export interface RowLike {
  id: string;
  treatment: number;
  outcome: number;
}

export interface DataCounts {
  rows: number;
  treated: number;
  control: number;
  conversions: number;
  non_conversions: number;
}

export function countRows(rows: readonly RowLike[]): DataCounts {
  let treated = 0;
  let conversions = 0;
  for (let i = 0; i < rows.length; i++) {
    treated += rows[i].treatment;
    conversions += rows[i].outcome;
  }
  return { rows: rows.length, treated, control: rows.length - treated, conversions, non_conversions: rows.length - conversions };
}

/** Throws 422 UPLIFT_INSUFFICIENT_DATA naming every failed rule, with the counts seen. */
export function checkSufficient(rows: readonly RowLike[]): DataCounts {
  const c = countRows(rows);
  const failed: { rule: string; message: string }[] = [];
  if (c.rows < MIN_ROWS) failed.push({ rule: 'min_rows', message: `at least ${MIN_ROWS} rows are required, got ${c.rows}` });
  if (c.treated === 0 || c.control === 0) {
    failed.push({ rule: 'both_groups', message: `both treated (treatment 1) and control (treatment 0) rows are required, got ${c.treated} treated and ${c.control} control` });
  }
  if (c.conversions === 0 || c.non_conversions === 0) {
    failed.push({ rule: 'both_outcomes', message: `both conversions (outcome 1) and non-conversions (outcome 0) are required, got ${c.conversions} conversions and ${c.non_conversions} non-conversions` });
  }
  if (failed.length > 0) {
    throw fail(InsufficientData, `Insufficient data: ${failed.map((f) => f.message).join('; ')}`, {
      failed_rules: failed.map((f) => f.rule),
      counts: c,
    });
  }
  return c;
}

/** Up to this many duplicated ids are listed in the error details (all are counted)... */
export const MAX_DUPLICATES_LISTED = 10;
/** ...each with up to this many row indices (and its total count). */
export const MAX_ROWS_LISTED = 20;

/**
 * Throws 422 UPLIFT_DUPLICATE_ID naming the first duplicated ids, the (0-based) rows holding them (the
 * first MAX_ROWS_LISTED) and how many rows hold each.
 */
export function checkUniqueIds(rows: readonly RowLike[]): void {
  const first = new Map<string, number>();
  let listed: Map<string, { rows: number[]; count: number }> | null = null;
  let duplicateRows = 0;
  for (let i = 0; i < rows.length; i++) {
    const id = rows[i].id;
    const j = first.get(id);
    if (j === undefined) {
      first.set(id, i);
      continue;
    }
    duplicateRows++;
    listed ??= new Map();
    const at = listed.get(id);
    if (at) {
      at.count++;
      if (at.rows.length < MAX_ROWS_LISTED) at.rows.push(i);
    } else if (listed.size < MAX_DUPLICATES_LISTED) listed.set(id, { rows: [j, i], count: 2 });
  }
  if (listed) {
    const dups = [...listed].map(([id, at]) => ({ id, rows: at.rows, count: at.count }));
    const d0 = dups[0];
    const shownId = d0.id.length > 200 ? `${d0.id.slice(0, 200)}...` : d0.id;
    throw fail(
      DuplicateId,
      `Duplicate id ${JSON.stringify(shownId)} in rows ${d0.rows.join(', ')}${d0.count > d0.rows.length ? ', ...' : ''}` +
        (duplicateRows > d0.count - 1 ? ` (${duplicateRows} duplicate rows in total)` : '') +
        '; ids must be unique within a request',
      { duplicates: dups.map((d) => ({ ...d, id: d.id.length > 200 ? `${d.id.slice(0, 200)}...` : d.id })), duplicate_rows: duplicateRows },
    );
  }
}

/** JSON pointer token (RFC 6901): "~" -> "~0", "/" -> "~1". */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A long name or id shortened for an error message (the full value is never echoed). */
function shown(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

function tooLong(subject: string, limitName: string, max: number, value: string, path: string, rowIndex: number, rowId: unknown) {
  const details: Record<string, unknown> = { path, rule: limitName, limit: limitName, max, value: value.length, row_index: rowIndex };
  let row = `row ${rowIndex}`;
  if (typeof rowId === 'string' && rowId.length <= 200) {
    details.row_id = rowId;
    row += `, id ${JSON.stringify(rowId)}`;
  }
  return fail(InvalidRequest, `Invalid request: ${subject} has ${value.length} characters; at most ${max} are allowed (${limitName}) (${row})`, details);
}

/**
 * The configured request limits (README "Limits"), checked on the parsed body before schema validation,
 * so an oversized request is refused before Ajv walks it and before any column is allocated (the
 * distinct-feature cap bounds toRawDataset's memory: one Float64Array(rows) per feature name).
 *
 * Defensive about shape: anything that is not the expected shape is skipped here and reported by the
 * schema validation that follows. One pass over the rows; rows with the same key list as the previous
 * row (the common case) cost one array comparison.
 *
 * - rows > MAX_ROWS, distinct feature names > MAX_FEATURES: 413 UPLIFT_LIMIT_EXCEEDED
 * - an id longer than MAX_ID_LENGTH, a feature name longer than MAX_FEATURE_NAME_LENGTH: 400
 *   UPLIFT_INVALID_REQUEST with the JSON pointer
 * Every error's details carry `limit` (the variable), `max` and `value`.
 */
export function checkLimits(body: unknown, limits: RequestLimitsConfig): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const rows = (body as { rows?: unknown }).rows;
  if (!Array.isArray(rows)) return;
  if (rows.length > limits.maxRows) {
    throw fail(LimitExceeded, `Too many rows: ${rows.length}; at most ${limits.maxRows} rows per request (MAX_ROWS)`, {
      limit: 'MAX_ROWS',
      max: limits.maxRows,
      value: rows.length,
    });
  }
  const names = new Set<string>();
  let lastKeys: string[] = [];
  const maxId = limits.maxIdLength;
  const maxName = limits.maxFeatureNameLength;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as { id?: unknown; features?: unknown } | null;
    if (row === null || typeof row !== 'object') continue;
    const id = row.id;
    if (typeof id === 'string' && id.length > maxId) throw tooLong(`/rows/${i}/id`, 'MAX_ID_LENGTH', maxId, id, `/rows/${i}/id`, i, undefined);
    const f = row.features;
    if (f === null || typeof f !== 'object' || Array.isArray(f)) continue;
    const keys = Object.keys(f);
    let same = keys.length === lastKeys.length;
    for (let k = 0; same && k < keys.length; k++) same = keys[k] === lastKeys[k];
    if (same) continue;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (names.has(key)) continue;
      if (key.length > maxName) {
        throw tooLong(`the feature name ${JSON.stringify(shown(key))}`, 'MAX_FEATURE_NAME_LENGTH', maxName, key, `/rows/${i}/features/${pointerToken(shown(key, 200))}`, i, id);
      }
      names.add(key);
      if (names.size > limits.maxFeatures) {
        throw fail(
          LimitExceeded,
          `Too many features: more than ${limits.maxFeatures} distinct feature names (MAX_FEATURES), reached at row ${i}`,
          { limit: 'MAX_FEATURES', max: limits.maxFeatures, value: names.size, row_index: i },
        );
      }
    }
    lastKeys = keys;
  }
}
