/**
 * Piscina worker entry point (compiled to dist/workers/uplift.js). Decodes a task, runs the pure ML core
 * and returns plain data + typed arrays. No Fastify, no I/O.
 */
import { threadId } from 'node:worker_threads';
import type { PoolTask, PoolResult } from '../schemas/task.js';
import { runPipeline } from '../src/ml/pipeline.js';

export default function uplift(task: PoolTask): PoolResult {
  switch (task.kind) {
    case 'ping':
      return { kind: 'pong', threadId };
    case 'pipeline': {
      const t0 = performance.now();
      const result = runPipeline(task.raw, {
        model: task.options.model,
        seed: task.options.seed,
        contamination: task.options.contamination,
      });
      return { kind: 'pipeline', result, worker_ms: performance.now() - t0 };
    }
    default:
      throw new Error(`unknown task kind ${JSON.stringify((task as { kind?: unknown }).kind)}`);
  }
}
