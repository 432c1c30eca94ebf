/**
 * The contract between the event loop and the worker pool (workers/uplift.ts). Plain data and typed
 * arrays only: the request's columns travel as moved ArrayBuffers (transfer list) and the binned dataset
 * as SharedArrayBuffers (one read-only copy shared by every worker), so no row objects are ever
 * structured-cloned across threads.
 *
 * A request is one job of several tasks (see src/plugins/jobs.ts):
 *   prepare (1) -> cv (configurations x folds, in parallel) -> select (1) -> final (forest tree ranges,
 *   in parallel) -> finish (1)
 * or, for callers that want one task, `pipeline` (runPipeline on one thread; same scores).
 */
import type { ModelBuffers } from '../src/ml/models.js';
import type { FinalTaskSpec, PipelineOutput, Prepared, Selection } from '../src/ml/pipeline.js';
import type { RandomizationCheck } from '../src/ml/eval/trust.js';
import type { ModelChoice, RawDataset } from '../src/ml/types.js';

export interface PingTask {
  kind: 'ping';
}
export interface PingResult {
  kind: 'pong';
  threadId: number;
}

/** The request's options; an absent seed means the engine's documented default seed. */
export interface JobOptions {
  model: ModelChoice;
  seed?: number;
  contamination: number;
}

/** Everything on one thread: runPipeline. */
export interface PipelineTask {
  kind: 'pipeline';
  raw: RawDataset;
  options: JobOptions;
}
export interface PipelineTaskResult {
  kind: 'pipeline';
  result: PipelineOutput;
  /** Milliseconds spent inside the worker. */
  worker_ms: number;
}

/** Encode + folds + grid; the binned columns come back backed by SharedArrayBuffers. */
export interface PrepareTask {
  kind: 'prepare';
  raw: RawDataset;
  options: JobOptions;
}
export interface PrepareResult {
  kind: 'prepared';
  prepared: Prepared;
  /** Time inside the worker, ms. */
  ms?: number;
}

/** One cross-validation fit: grid configuration `configIndex`, held-out fold `fold`. */
export interface CvTask {
  kind: 'cv';
  prepared: Prepared;
  configIndex: number;
  fold: number;
  /**
   * Return the fitted model (when it has split trees) instead of computing its held-out split
   * importance; the job computes that only for the chosen configuration (ImportanceTask).
   */
  deferImportance?: boolean;
}
export interface CvResult {
  kind: 'cv';
  preds: Float64Array;
  /** Forest fits: held-out split importance per feature (issue 4 feature_importance); null otherwise. */
  importance?: Float64Array | null;
  /** With deferImportance: the fitted model, when its importance is still to be computed; else null. */
  model?: ModelBuffers | null;
  /** Time inside the worker, ms. */
  ms?: number;
}

/** Model selection from all CV predictions, and the final-fit tasks (forests split in `forestParts`). */
export interface SelectTask {
  kind: 'select';
  prepared: Prepared;
  preds: Float64Array[][];
  /** importances[i][f] = CvResult.importance of configuration i, fold f (optional). */
  importances?: (Float64Array | null | undefined)[][];
  forestParts: number;
}
export interface SelectResult {
  kind: 'selected';
  selection: Selection;
  finalTasks: FinalTaskSpec[];
  /** Time inside the worker, ms. */
  ms?: number;
}

/** One final fit on all rows (a forest's tree range, or a whole model). */
export interface FinalTask {
  kind: 'final';
  prepared: Prepared;
  spec: FinalTaskSpec;
}
export interface FinalResult {
  kind: 'final';
  model: ModelBuffers;
  /** Time inside the worker, ms. */
  ms?: number;
}

/** The randomization check (issue 4: is treatment predictable from the features?); runs beside the CV tasks. */
export interface RandomizationTask {
  kind: 'randomization';
  prepared: Prepared;
}
export interface RandomizationResult {
  kind: 'randomization';
  check: RandomizationCheck;
  /** Time inside the worker, ms. */
  ms?: number;
}

/** Held-out split importance of a CV fit (cvFit's, computed later): its model, fold and predictions. */
export interface ImportanceTask {
  kind: 'importance';
  prepared: Prepared;
  fold: number;
  model: ModelBuffers;
  preds: Float64Array;
}
export interface ImportanceResult {
  kind: 'importance';
  importance: Float64Array | null;
  /** Time inside the worker, ms. */
  ms?: number;
}

/** The final model's raw predictions for rows [from, to) (finish gets them all, concatenated). */
export interface ScoreTask {
  kind: 'score';
  prepared: Prepared;
  /** selection.members (grid indices of the final model's members). */
  members: number[];
  finalTasks: FinalTaskSpec[];
  models: ModelBuffers[];
  from: number;
  to: number;
}
export interface ScoreResult {
  kind: 'scored';
  preds: Float64Array;
  /** Time inside the worker, ms. */
  ms?: number;
}

/** Assemble the final model, score every row, summarize, evaluate out of fold. */
export interface FinishTask {
  kind: 'finish';
  prepared: Prepared;
  selection: Selection;
  finalTasks: FinalTaskSpec[];
  models: ModelBuffers[];
  trainMs: number;
  /** The randomization task's result (when absent, finish computes it). */
  randomization?: RandomizationCheck;
  /** The final model's predictions for every row (ScoreTask results); when absent, finish predicts. */
  raw?: Float64Array;
}

export type PoolTask = PingTask | PipelineTask | PrepareTask | CvTask | SelectTask | FinalTask | RandomizationTask | ImportanceTask | ScoreTask | FinishTask;
export type PoolResult = PingResult | PipelineTaskResult | PrepareResult | CvResult | SelectResult | FinalResult | RandomizationResult | ImportanceResult | ScoreResult;

/**
 * The ArrayBuffers behind a dataset's typed arrays, deduplicated, to move to the worker.
 * SharedArrayBuffers are shared anyway and must not be listed.
 * After the transfer the caller's typed arrays are detached (length 0): do not read `raw` again.
 */
export function datasetTransferList(raw: RawDataset): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView): void => {
    const b = a.buffer;
    // Only buffers the view owns entirely: moving a shared slab (e.g. Node's Buffer pool) would detach
    // memory other code still uses. Views into such slabs are copied by structured clone instead.
    if (b instanceof ArrayBuffer && b.byteLength > 0 && a.byteOffset === 0 && a.byteLength === b.byteLength) seen.add(b);
  };
  add(raw.treatment);
  add(raw.outcome);
  for (const f of raw.features) add(f.kind === 'numeric' ? f.values : f.codes);
  return [...seen];
}
