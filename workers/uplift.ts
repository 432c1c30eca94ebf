/**
 * Piscina worker entry point (compiled to dist/workers/uplift.js). Each task is one step of the pure ML
 * pipeline (src/ml/pipeline.ts) on plain data + typed arrays. No Fastify, no I/O, no state kept between
 * tasks: any worker can run any task, and the pipeline's seeding makes the scores identical however the
 * tasks are spread.
 */
import { threadId } from 'node:worker_threads';
import type { PoolResult, PoolTask } from '../schemas/task.js';
import { fitModel, modelFromBuffers, modelToBuffers } from '../src/ml/models.js';
import {
  assembleFinal,
  cvFit,
  cvFitImportance,
  cvFoldRows,
  cvTaskSeed,
  finalFit,
  finalTaskList,
  finish,
  prepare,
  randomization,
  runPipeline,
  select,
  splitTrees,
  type Prepared,
  type Selection,
} from '../src/ml/pipeline.js';

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

/**
 * Runs one task. Every result but `pong` carries `ms`: the task's time inside this worker (the job log
 * sums them per phase, which shows how busy the pool was against the phase's wall time).
 */
export default function uplift(task: PoolTask): PoolResult {
  const t0 = performance.now();
  const ms = (): number => performance.now() - t0;
  switch (task.kind) {
    case 'ping':
      return { kind: 'pong', threadId };
    case 'pipeline': {
      const result = runPipeline(task.raw, { model: task.options.model, seed: task.options.seed, contamination: task.options.contamination });
      return { kind: 'pipeline', result, worker_ms: ms() };
    }
    case 'prepare': {
      const { model, seed, contamination } = task.options;
      const prepared = sharePrepared(prepare(task.raw, { model, seed, contamination }));
      return { kind: 'prepared', prepared, ms: ms() };
    }
    case 'cv': {
      const p = task.prepared;
      if (!task.deferImportance) {
        const { preds, importance } = cvFit(p.data, p.folds, p.grid[task.configIndex], task.configIndex, task.fold, p.options.seed);
        return { kind: 'cv', preds, importance, ms: ms() };
      }
      // cvFit without the held-out split importance: the fitted model comes back instead, and the
      // importance is computed (same function, same rows, same predictions) only for the configuration
      // that selection chooses ('importance' task).
      const { train, test } = cvFoldRows(p.data, p.folds, task.fold, p.options.seed);
      const model = fitModel(p.data, train, p.grid[task.configIndex], cvTaskSeed(p.options.seed, task.configIndex, task.fold));
      const preds = model.predict(p.data, test);
      const deferred = splitTrees(model) ? modelToBuffers(model) : null;
      return { kind: 'cv', preds, importance: null, model: deferred, ms: ms() };
    }
    case 'importance': {
      const p = task.prepared;
      // exactly cvFit's importance (same trees, rows and predictions: src/ml/pipeline.ts cvFitImportance)
      const importance = cvFitImportance(p.data, p.folds, task.fold, p.options.seed, modelFromBuffers(task.model), task.preds);
      return { kind: 'importance', importance, ms: ms() };
    }
    case 'select': {
      const p = task.prepared;
      const selection = select(p.data, p.folds, p.grid, task.preds, task.importances);
      return { kind: 'selected', selection, finalTasks: finalTaskList(p, selection, task.forestParts), ms: ms() };
    }
    case 'final': {
      const p = task.prepared;
      const model = finalFit(p.data, p.grid[task.spec.member], p.options.seed, task.spec.treeRange);
      return { kind: 'final', model: modelToBuffers(model), ms: ms() };
    }
    case 'randomization': {
      const check = randomization(task.prepared);
      return { kind: 'randomization', check, ms: ms() };
    }
    case 'score': {
      const p = task.prepared;
      const model = assembleFinal({ members: task.members } as Selection, task.finalTasks, task.models.map(modelFromBuffers));
      const rows = new Uint32Array(task.to - task.from);
      for (let i = 0; i < rows.length; i++) rows[i] = task.from + i;
      return { kind: 'scored', preds: model.predict(p.data, rows), ms: ms() };
    }
    case 'finish': {
      const model = assembleFinal(task.selection, task.finalTasks, task.models.map(modelFromBuffers));
      const result = finish(task.prepared, task.selection, model, task.trainMs, task.randomization, task.raw);
      return { kind: 'pipeline', result, worker_ms: ms() };
    }
    default:
      throw new Error(`unknown task kind ${JSON.stringify((task as { kind?: unknown }).kind)}`);
  }
}
