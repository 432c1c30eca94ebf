/**
 * Piscina worker entry point (compiled to dist/workers/uplift.js). Each task is one step of the pure ML
 * pipeline (src/ml/pipeline.ts) on plain data + typed arrays. No Fastify, no I/O, no state kept between
 * tasks: any worker can run any task, and the pipeline's seeding makes the scores identical however the
 * tasks are spread.
 */
import { threadId } from 'node:worker_threads';
import type { PoolResult, PoolTask } from '../schemas/task.js';
import { modelFromBuffers, modelToBuffers } from '../src/ml/models.js';
import { assembleFinal, cvFit, finalFit, finalTaskList, finish, prepare, randomization, runPipeline, select, type Prepared } from '../src/ml/pipeline.js';

/** A copy of `a` in a SharedArrayBuffer (read-only from here on; every worker reads the same memory). */
function shared<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/** The prepared dataset with its per-row arrays moved into SharedArrayBuffers. */
function sharePrepared(p: Prepared): Prepared {
  const d = p.data;
  return {
    ...p,
    folds: shared(p.folds),
    data: {
      ...d,
      treatment: shared(d.treatment),
      outcome: shared(d.outcome),
      features: d.features.map((f) => ({ ...f, bins: shared(f.bins) })),
    },
  };
}

export default function uplift(task: PoolTask): PoolResult {
  switch (task.kind) {
    case 'ping':
      return { kind: 'pong', threadId };
    case 'pipeline': {
      const t0 = performance.now();
      const result = runPipeline(task.raw, { model: task.options.model, seed: task.options.seed, contamination: task.options.contamination });
      return { kind: 'pipeline', result, worker_ms: performance.now() - t0 };
    }
    case 'prepare': {
      const { model, seed, contamination } = task.options;
      return { kind: 'prepared', prepared: sharePrepared(prepare(task.raw, { model, seed, contamination })) };
    }
    case 'cv': {
      const p = task.prepared;
      const { preds, importance } = cvFit(p.data, p.folds, p.grid[task.configIndex], task.configIndex, task.fold, p.options.seed);
      return { kind: 'cv', preds, importance };
    }
    case 'select': {
      const p = task.prepared;
      const selection = select(p.data, p.folds, p.grid, task.preds, task.importances);
      return { kind: 'selected', selection, finalTasks: finalTaskList(p, selection, task.forestParts) };
    }
    case 'final': {
      const p = task.prepared;
      const model = finalFit(p.data, p.grid[task.spec.member], p.options.seed, task.spec.treeRange);
      return { kind: 'final', model: modelToBuffers(model) };
    }
    case 'randomization':
      return { kind: 'randomization', check: randomization(task.prepared) };
    case 'finish': {
      const model = assembleFinal(task.selection, task.finalTasks, task.models.map(modelFromBuffers));
      const t0 = performance.now();
      const result = finish(task.prepared, task.selection, model, task.trainMs, task.randomization);
      return { kind: 'pipeline', result, worker_ms: performance.now() - t0 };
    }
    default:
      throw new Error(`unknown task kind ${JSON.stringify((task as { kind?: unknown }).kind)}`);
  }
}
