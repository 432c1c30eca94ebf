/**
 * The contract between the event loop and the worker pool (workers/uplift.ts). Plain data and typed
 * arrays only: the typed arrays' ArrayBuffers travel in the transfer list (moved, not copied), so no row
 * objects are ever structured-cloned across threads.
 */
import type { ModelChoice, PipelineResult, RawDataset } from '../src/ml/types.js';

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

export interface PipelineTask {
  kind: 'pipeline';
  raw: RawDataset;
  options: JobOptions;
}
export interface PipelineTaskResult {
  kind: 'pipeline';
  result: PipelineResult;
  /** Milliseconds spent inside the worker. */
  worker_ms: number;
}

export type PoolTask = PingTask | PipelineTask;
export type PoolResult = PingResult | PipelineTaskResult;

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
