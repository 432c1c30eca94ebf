/**
 * The worker pool plugin: owns the one Piscina pool (POOL_SIZE threads, MAX_QUEUE waiting jobs) that
 * runs all encoding, training and scoring; routes only call `app.pool.run(task)`.
 *
 * - Ready: every thread answers a `ping` task at start-up (proves the compiled worker loads); until then
 *   `app.pool.ready` is false and GET /ready answers 503.
 * - Jobs: a request is one job of several tasks (src/plugins/jobs.ts); admission counts jobs.
 * - Overload: when all workers are busy and MAX_QUEUE jobs already wait, a job is refused at once with
 *   503 UPLIFT_OVERLOADED and a Retry-After estimated from recent job durations. Admission is counted
 *   here (jobs admitted and not yet settled <= POOL_SIZE + MAX_QUEUE), not with Piscina's maxQueue:
 *   Piscina 5.3 with maxQueue 0 rejects a task but leaves it queued, so it still runs later.
 * - Shutdown: /ready turns 503 at once; requests already received still run their jobs; the pool is
 *   closed in Fastify's onClose hook, after the server has stopped and in-flight requests have finished.
 * - Cancellation: `run` accepts an AbortSignal; aborting a running job terminates its thread (Piscina
 *   replaces it), so a client that hangs up stops using CPU.
 *
 * Tests may pass their own `runner` (anything with run/close), e.g. an in-process function.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FastifyInstance } from 'fastify';
import type { PoolTask } from '../../schemas/task.js';
import { fail, Internal, JobAborted, Overloaded, ShuttingDown, INTERNAL_MESSAGE, type ApiError } from '../errors.js';
import { globalPlugin } from './util.js';

export interface RunOptions {
  transferList?: ArrayBuffer[];
  signal?: AbortSignal;
  /** Queue order: lower first (the job's admission number); set by PoolService.job. */
  priority?: number;
}

/**
 * The tasks waiting for a thread, handed out by job admission order: the queued task of the EARLIEST
 * admitted job first (ties in push order). A job is several rounds of tasks (prepare, CV, select, final,
 * score, finish); with plain FIFO every round of every job queues behind all other jobs' tasks, so under
 * sustained load all jobs in flight progress together and each takes about as long as all of them
 * (measured with bench/load.mjs: 10 jobs in flight, no job finished in 60 s). Job order makes the pool
 * first-come first-served per job: the oldest job gets every free thread, finishes, and leaves.
 *
 * Piscina cannot do this itself: a task with an AbortSignal that finds no free thread goes to Piscina's
 * internal FIFO "skip queue", bypassing any custom taskQueue. So the runner keeps its own queue and
 * hands Piscina a task only when a thread is free.
 */
export class JobOrderQueue<T> {
  private items: T[] = [];
  private order: number[] = [];

  constructor(private readonly priorityOf: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.order.push(this.priorityOf(item));
  }

  /** The item with the lowest priority number (first pushed among equals), or null. */
  shift(): T | null {
    const n = this.items.length;
    if (n === 0) return null;
    let best = 0;
    for (let i = 1; i < n; i++) if (this.order[i] < this.order[best]) best = i;
    const [item] = this.items.splice(best, 1);
    this.order.splice(best, 1);
    return item;
  }

  /** Removes `item`; false if it is not queued (already handed out). */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.order.splice(i, 1);
    return true;
  }
}

/** What the plugin needs from a pool (the Piscina runner below satisfies it). */
export interface JobRunner {
  run(task: PoolTask, opts?: RunOptions): Promise<unknown>;
  close(): Promise<void>;
  /** Threads (for ping warm-up and Retry-After estimates). */
  readonly size: number;
  /** Tasks waiting for a thread. */
  readonly queueSize: number;
  /** Threads started and ended so far (a terminated or crashed thread is replaced by a new one). */
  threadCounts?(): { started: number; ended: number };
}

export interface PoolStats {
  size: number;
  queued: number;
  running: number;
  max_queue: number;
  completed: number;
  ready: boolean;
  /** Worker threads started since the pool was created (initial ones included; Piscina runner only). */
  threads_started?: number;
  /** Worker threads that ended: terminated by a cancellation or deadline, or crashed (replaced at once). */
  threads_ended?: number;
}

export type TaskRunner = <R>(task: PoolTask, opts?: RunOptions) => Promise<R>;

export interface PoolService {
  /** True once every thread has answered a ping and the pool is not closing. */
  readonly ready: boolean;
  /** Resolves when the warm-up pings succeed; rejects if the worker cannot load. */
  readonly whenReady: Promise<void>;
  readonly closing: boolean;
  /** Runs a one-task job; failures come back as ApiErrors (503 overloaded / shutting down, 499 aborted, 500). */
  run<R>(task: PoolTask, opts?: RunOptions): Promise<R>;
  /**
   * Admits one job (or refuses it with 503 when POOL_SIZE + MAX_QUEUE jobs are in flight) and lets `fn`
   * run any number of tasks for it; task failures come back as ApiErrors.
   */
  job<R>(fn: (run: TaskRunner) => Promise<R>): Promise<R>;
  /** Worker threads. */
  readonly size: number;
  /** True while a new job would be refused (POOL_SIZE + MAX_QUEUE jobs in flight). */
  readonly full: boolean;
  /** The 503 a refused job gets (with its Retry-After). */
  overloadedError(): ApiError;
  stats(): PoolStats;
}

declare module 'fastify' {
  interface FastifyInstance {
    pool: PoolService;
  }
}

export interface PoolPluginOptions {
  poolSize: number;
  maxQueue: number;
  /** Compiled worker file; default dist/workers/uplift.js. */
  filename?: string;
  /** Replaces the Piscina pool (tests). */
  runner?: JobRunner;
}

/** dist/workers/uplift.js, whether this module runs compiled (dist/src/plugins) or from source (src/plugins). */
export function defaultWorkerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  return here.endsWith('.ts')
    ? path.resolve(dir, '../../dist/workers/uplift.js')
    : path.resolve(dir, '../../workers/uplift.js');
}

export function createPiscinaRunner(opts: {
  poolSize: number;
  maxQueue: number;
  filename?: string;
  /** Errors the pool reports outside any task (e.g. a thread failing between tasks). */
  onError?: (err: unknown) => void;
}): JobRunner {
  const pool = new Piscina({
    filename: opts.filename ?? defaultWorkerFile(),
    minThreads: opts.poolSize,
    maxThreads: opts.poolSize,
    idleTimeout: 2 ** 31 - 1,
  });
  let started = 0;
  let ended = 0;
  pool.on('workerCreate', () => void started++);
  pool.on('workerDestroy', () => void ended++);
  // Piscina emits 'error' for a thread that fails while running no task; an EventEmitter 'error' with no
  // listener would throw and bring the whole process down. Piscina has already replaced the thread.
  pool.on('error', (err: unknown) => opts.onError?.(err));

  // Our own queue in job order (see JobOrderQueue); Piscina gets at most POOL_SIZE tasks at a time.
  interface Waiting {
    task: PoolTask;
    o: RunOptions | undefined;
    priority: number;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
    onAbort?: () => void;
  }
  const waiting = new JobOrderQueue<Waiting>((w) => w.priority);
  let running = 0;
  const abortError = (signal: AbortSignal): Error =>
    Object.assign(new Error('The task has been aborted', { cause: signal.reason }), { name: 'AbortError' });
  const pump = (): void => {
    while (running < opts.poolSize) {
      const w = waiting.shift();
      if (w === null) return;
      if (w.onAbort) w.o?.signal?.removeEventListener('abort', w.onAbort);
      if (w.o?.signal?.aborted) {
        w.reject(abortError(w.o.signal));
        continue;
      }
      running++;
      // Once running, Piscina owns the abort: it terminates the thread (and starts a replacement).
      pool.run(w.task, { transferList: w.o?.transferList, signal: w.o?.signal ?? null }).then(w.resolve, w.reject).finally(() => {
        running--;
        pump();
      });
    }
  };

  return {
    threadCounts: () => ({ started, ended }),
    run: (task, o) =>
      new Promise((resolve, reject) => {
        const signal = o?.signal;
        if (signal?.aborted) {
          reject(abortError(signal));
          return;
        }
        const w: Waiting = { task, o, priority: o?.priority ?? 0, resolve, reject };
        if (signal) {
          // Aborted while still waiting here: drop it from the queue.
          w.onAbort = () => {
            if (waiting.remove(w)) reject(abortError(signal));
          };
          signal.addEventListener('abort', w.onAbort, { once: true });
        }
        waiting.push(w);
        pump();
      }),
    close: () => pool.close(),
    get size() {
      return opts.poolSize;
    },
    get queueSize() {
      return waiting.size + pool.queueSize;
    },
  };
}

function isQueueFull(err: unknown): boolean {
  const m = err instanceof Error ? err.message : '';
  return m === 'Task queue is at limit' || m === 'No task queue available and all Workers are busy';
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}

export const poolPlugin = globalPlugin(async function pool(app: FastifyInstance, opts: PoolPluginOptions) {
  const runner =
    opts.runner ?? createPiscinaRunner({ ...opts, onError: (err) => app.log.error({ err }, 'worker thread failed outside a task (replaced)') });
  let ready = false;
  let closing = false;
  /** Jobs admitted and not yet settled (running or waiting in Piscina's queue). */
  let inFlight = 0;
  const capacity = runner.size + opts.maxQueue;
  let completed = 0;
  /** Jobs admitted so far: each job's number orders its tasks in the queue (see JobOrderQueue). */
  let admitted = 0;
  /** Exponentially weighted mean job duration, ms (for Retry-After). */
  let meanJobMs = 0;

  const retryAfterS = (): number => {
    const per = meanJobMs > 0 ? meanJobMs : 5000;
    const ahead = inFlight;
    return Math.min(300, Math.max(1, Math.ceil((per * Math.max(1, ahead)) / Math.max(1, runner.size) / 1000)));
  };

  const whenReady = Promise.all(
    Array.from({ length: runner.size }, () => runner.run({ kind: 'ping' })),
  ).then(() => {
    ready = !closing;
  });
  // Avoid an unhandled rejection if nobody awaits whenReady; the failure is logged here.
  whenReady.catch((err) => app.log.error({ err }, 'worker pool failed to start'));

  const overloaded = (): ApiError =>
    fail(Overloaded, 'All workers are busy and the job queue is full; retry later', { pool_size: runner.size, max_queue: opts.maxQueue }, retryAfterS());

  /** Any failure of a task as an ApiError (503 / 499 / 500 with the cause kept for the log). */
  const mapError = (err: unknown): ApiError => {
    if ((err as ApiError)?.code?.startsWith?.('UPLIFT_')) return err as ApiError;
    if (isQueueFull(err)) return overloaded();
    if (isAbort(err)) return fail(JobAborted, 'The job was cancelled');
    if (closing) return fail(ShuttingDown, 'The service is shutting down; retry on another instance', undefined, 5);
    const e: ApiError = fail(Internal, INTERNAL_MESSAGE);
    (e as { cause?: unknown }).cause = err;
    return e;
  };

  const runTask = async <R>(task: PoolTask, o?: RunOptions): Promise<R> => {
    try {
      return (await runner.run(task, o)) as R;
    } catch (err) {
      throw mapError(err);
    }
  };

  const service: PoolService = {
    get ready() {
      return ready && !closing;
    },
    whenReady,
    get closing() {
      return closing;
    },
    get size() {
      return runner.size;
    },
    get full() {
      return inFlight >= capacity;
    },
    overloadedError: () => overloaded(),
    run<R>(task: PoolTask, o?: RunOptions): Promise<R> {
      return service.job((run) => run<R>(task, o));
    },
    async job<R>(fn: (run: TaskRunner) => Promise<R>): Promise<R> {
      // No closing check here: requests already received when shutdown starts still run (Fastify itself
      // answers 503 to requests arriving after close() began); the pool closes after they finish.
      if (inFlight >= capacity) throw overloaded();
      const t0 = performance.now();
      inFlight++;
      const priority = ++admitted;
      const runJobTask = <T>(task: PoolTask, o?: RunOptions): Promise<T> => runTask<T>(task, { ...o, priority });
      try {
        const out = await fn(runJobTask);
        const ms = performance.now() - t0;
        meanJobMs = meanJobMs === 0 ? ms : 0.8 * meanJobMs + 0.2 * ms;
        completed++;
        return out;
      } catch (err) {
        throw mapError(err);
      } finally {
        inFlight--;
      }
    },
    stats() {
      const threads = runner.threadCounts?.();
      return {
        size: runner.size,
        running: Math.min(inFlight, runner.size),
        queued: Math.max(0, inFlight - runner.size),
        max_queue: opts.maxQueue,
        completed,
        ready: service.ready,
        ...(threads ? { threads_started: threads.started, threads_ended: threads.ended } : {}),
      };
    },
  };

  app.decorate('pool', service);
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onClose', async () => {
    await runner.close();
  });
}, 'uplift-pool');
