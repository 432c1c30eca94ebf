/**
 * One request = one job on the worker pool, run as the pipeline's steps so both cores work on it:
 *
 *   prepare            1 task      encode + folds + grid; binned columns come back in SharedArrayBuffers
 *   cv                 G x 3 tasks every (configuration, fold) fit, all queued at once
 *   select             1 task      mean out-of-fold Qini -> chosen configuration(s), final-fit task list
 *   final              k tasks     the chosen model refit on all rows; a forest split in POOL_SIZE tree ranges
 *   randomization      1 task      issue-4 treatment-predictability check, queued after the CV tasks
 *                                  (needs only the prepared data: fills a worker that would idle at the
 *                                  end of CV / during select; awaited by finish)
 *   finish             1 task      assemble, score every row, summarize, evaluate out of fold
 *
 * The event loop only passes messages: the raw columns are moved (transfer list) into the prepare task;
 * later tasks share the binned dataset's memory. The pipeline seeds every task by what it is, never by
 * which worker runs it, so the scores equal runPipeline's on one thread (test/routes/jobs.test.ts).
 */
import type {
  CvResult,
  FinalResult,
  JobOptions,
  PipelineTaskResult,
  PrepareResult,
  RandomizationResult,
  SelectResult,
} from '../../schemas/task.js';
import { datasetTransferList } from '../../schemas/task.js';
import { setMaxListeners } from 'node:events';
import { fail, JobTimeout } from '../errors.js';
import type { RawDataset } from '../ml/types.js';
import type { PoolService } from './pool.js';

export interface JobTimings {
  /** Wall time of each phase, ms. */
  prepare_ms: number;
  cv_ms: number;
  select_ms: number;
  final_ms: number;
  finish_ms: number;
  /** CV fits run. */
  cv_tasks: number;
  final_tasks: number;
}

export interface JobOutcome {
  result: PipelineTaskResult['result'];
  timings: JobTimings;
  job_ms: number;
}

/**
 * Runs the whole pipeline for one request; `raw`'s buffers are moved to a worker (unusable after).
 * `clientSignal` cancels the job (client gone); after `timeoutS` seconds (0 = never) the job is cancelled
 * too - running tasks' threads are terminated, so their CPU is freed - and fails with 503
 * UPLIFT_JOB_TIMEOUT.
 */
export async function runUpliftJob(
  pool: PoolService,
  raw: RawDataset,
  options: JobOptions,
  clientSignal?: AbortSignal,
  timeoutS = 0,
): Promise<JobOutcome> {
  // One signal for the job: aborted by the client's signal or by the deadline (AbortSignal.any needs
  // Node 20.3; this works on every Node 20).
  const job = new AbortController();
  // Every task of the job listens on this signal (one listener per queued task).
  setMaxListeners(0, job.signal);
  let timedOut = false;
  const timer = timeoutS > 0 ? setTimeout(() => ((timedOut = true), job.abort()), timeoutS * 1000) : null;
  const onClient = (): void => job.abort();
  if (clientSignal?.aborted) job.abort();
  clientSignal?.addEventListener('abort', onClient, { once: true });
  try {
    return await runTasks(pool, raw, options, job.signal);
  } catch (err) {
    // One task failed (or the job was cancelled): stop its sibling tasks too, queued or running.
    job.abort();
    if (timedOut && !clientSignal?.aborted) {
      throw fail(JobTimeout, `The job did not finish within JOB_TIMEOUT_S=${timeoutS} s and was cancelled; send fewer rows or retry later`, { timeout_s: timeoutS }, 1);
    }
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    clientSignal?.removeEventListener('abort', onClient);
  }
}

function runTasks(pool: PoolService, raw: RawDataset, options: JobOptions, signal: AbortSignal): Promise<JobOutcome> {
  return pool.job(async (run) => {
    const t0 = performance.now();
    let t = t0;
    const lap = (): number => {
      const now = performance.now();
      const d = now - t;
      t = now;
      return Math.round(d);
    };

    const { prepared } = await run<PrepareResult>({ kind: 'prepare', raw, options }, { transferList: datasetTransferList(raw), signal });
    const prepare_ms = lap();

    let k = 0;
    for (let i = 0; i < prepared.folds.length; i++) if (prepared.folds[i] + 1 > k) k = prepared.folds[i] + 1;
    const cvJobs: Promise<CvResult>[] = [];
    for (let i = 0; i < prepared.grid.length; i++) {
      for (let f = 0; f < k; f++) cvJobs.push(run<CvResult>({ kind: 'cv', prepared, configIndex: i, fold: f }, { signal }));
    }
    const randJob = run<RandomizationResult>({ kind: 'randomization', prepared }, { signal });
    // Not awaited until finish; a failure there must not become an unhandled rejection meanwhile.
    randJob.catch(() => undefined);
    const cvOut = await Promise.all(cvJobs);
    const preds = prepared.grid.map((_, i) => cvOut.slice(i * k, (i + 1) * k).map((r) => r.preds));
    const importances = prepared.grid.map((_, i) => cvOut.slice(i * k, (i + 1) * k).map((r) => r.importance));
    const cv_ms = lap();

    const { selection, finalTasks } = await run<SelectResult>({ kind: 'select', prepared, preds, importances, forestParts: pool.size }, { signal });
    const select_ms = lap();

    const models = (await Promise.all(finalTasks.map((spec) => run<FinalResult>({ kind: 'final', prepared, spec }, { signal })))).map((r) => r.model);
    const final_ms = lap();

    const trainMs = performance.now() - t0;
    const { check: randomization } = await randJob;
    const out = await run<PipelineTaskResult>({ kind: 'finish', prepared, selection, finalTasks, models, trainMs, randomization }, { signal });
    const finish_ms = lap();

    return {
      result: out.result,
      job_ms: Math.round(performance.now() - t0),
      timings: { prepare_ms, cv_ms, select_ms, final_ms, finish_ms, cv_tasks: cvJobs.length, final_tasks: finalTasks.length },
    };
  });
}
