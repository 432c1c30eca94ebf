/**
 * Data checks that a JSON schema cannot express (SPEC.md "Data sufficiency"), run on the event loop after
 * schema validation and before any work is queued. Both are single passes over the rows.
 */
import { DuplicateId, fail, InsufficientData } from '../errors.js';

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
