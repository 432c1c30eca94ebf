/**
 * One request = one job on the worker pool, run as the pipeline's steps so both cores work on it:
 *
 *   prepare            1 task      encode + folds + grid; binned columns come back in SharedArrayBuffers
 *   cv                 G x 3 tasks every (configuration, fold) fit, all queued at once, longest first
 *   select             1 task      mean out-of-fold Qini -> chosen configuration(s), final-fit task list
 *   final              k tasks     the chosen model refit on all rows, longest first; a forest split in
 *                                  2 x POOL_SIZE tree ranges (packs evenly beside a blend's T-learner)
 *   importance         3 / member  held-out split importance of the chosen forest's CV fits (CV tasks
 *                                  return their model instead of computing it for every configuration)
 *   randomization      1 task      issue-4 treatment-predictability check, queued after the CV tasks
 *                                  (needs only the prepared data: fills a worker that would idle at the
 *                                  end of CV / during select; awaited by finish)
 *   score              POOL_SIZE   the final model's predictions for row ranges, in parallel
 *   finish             1 task      calibrate the scores, summarize, evaluate out of fold
 *
 * The event loop only passes messages: the raw columns are moved (transfer list) into the prepare task;
 * later tasks share the binned dataset's memory. The pipeline seeds every task by what it is, never by
 * which worker runs it, so the scores equal runPipeline's on one thread (test/routes/jobs.test.ts).
 */
import type {
  CvResult,
  FinalResult,
  ImportanceResult,
  JobOptions,
  PipelineTaskResult,
  PrepareResult,
  RandomizationResult,
  ScoreResult,
  SelectResult,
} from '../../schemas/task.js';
import { datasetTransferList } from '../../schemas/task.js';
import { setMaxListeners } from 'node:events';
import { fail, JobTimeout } from '../errors.js';
import type { ModelBuffers } from '../ml/models.js';
import type { FinalTaskSpec } from '../ml/pipeline.js';
import type { ModelConfig, RawDataset } from '../ml/types.js';
import type { PoolService } from './pool.js';

export interface JobTimings {
  /** Wall time of each phase, ms. */
  prepare_ms: number;
  cv_ms: number;
  select_ms: number;
  final_ms: number;
  finish_ms: number;
  /** Scoring every row with the final model (POOL_SIZE row ranges in parallel). */
  score_ms: number;
  /** Wait for the randomization task after the final fits (0 when it finished earlier). */
  rand_wait_ms: number;
  /** CV fits run. */
  cv_tasks: number;
  final_tasks: number;
  /**
   * Time inside the workers per phase, summed over the phase's tasks (cpu_x_ms / x_ms = average busy
   * threads in phase x; the randomization task runs beside CV / select / final).
   */
  cpu_prepare_ms: number;
  cpu_cv_ms: number;
  cpu_select_ms: number;
  cpu_final_ms: number;
  cpu_score_ms: number;
  /** Held-out split importance of the chosen members' CV fits (runs with the final fits). */
  cpu_importance_ms: number;
  cpu_randomization_ms: number;
  cpu_finish_ms: number;
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

/**
 * Relative cost of one fit of `config`, only to order tasks (longest first). Measured on lab data
 * (bench/e2e.mjs logs, 50k - 1M rows): a T-learner fold fit costs about 1.5 x a 100-tree forest's.
 */
function costEstimate(config: ModelConfig): number {
  if (config.family === 't_learner') return 150 + config.nIter;
  return config.nTrees * Math.min(1, config.sampleFraction * 2);
}

/** Relative cost of a final-fit task: a forest part by its tree count, a T-learner as a whole fit. */
function finalCost(spec: FinalTaskSpec): number {
  if (spec.treeRange) return (spec.treeRange[1] - spec.treeRange[0]) * Math.min(1, (spec.config as { sampleFraction: number }).sampleFraction * 2);
  return costEstimate(spec.config);
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

    const { prepared, ms: prepareCpu } = await run<PrepareResult>({ kind: 'prepare', raw, options }, { transferList: datasetTransferList(raw), signal });
    const prepare_ms = lap();

    // CV: every (configuration, fold) fit queued at once, longest first (Piscina's queue is FIFO), so the
    // short tasks fill the cores at the end of the phase instead of one long fit running alone.
    let k = 0;
    for (let i = 0; i < prepared.folds.length; i++) if (prepared.folds[i] + 1 > k) k = prepared.folds[i] + 1;
    const cvSpecs: { configIndex: number; fold: number; cost: number }[] = [];
    for (let i = 0; i < prepared.grid.length; i++) {
      for (let f = 0; f < k; f++) cvSpecs.push({ configIndex: i, fold: f, cost: costEstimate(prepared.grid[i]) });
    }
    const order = cvSpecs.map((_, j) => j).sort((a, b) => cvSpecs[b].cost - cvSpecs[a].cost || a - b);
    const cvOut: CvResult[] = new Array(cvSpecs.length);
    const cvJobs = order.map((j) =>
      run<CvResult>({ kind: 'cv', prepared, configIndex: cvSpecs[j].configIndex, fold: cvSpecs[j].fold, deferImportance: true }, { signal }).then((r) => {
        cvOut[j] = r;
      }),
    );
    // The randomization check is needed only by finish: queued last, it fills the cores that would idle
    // at the end of CV and during select (one task).
    const randJob = run<RandomizationResult>({ kind: 'randomization', prepared }, { signal });
    // Not awaited until finish; a failure there must not become an unhandled rejection meanwhile.
    randJob.catch(() => undefined);
    await Promise.all(cvJobs);
    const preds = prepared.grid.map((_, i) => cvOut.slice(i * k, (i + 1) * k).map((r) => r.preds));
    const cv_ms = lap();

    // Forests are split into 2 x POOL_SIZE tree ranges (any split gives the same forest), so a blend's
    // single T-learner task and the forest parts pack onto the cores evenly.
    const { selection, finalTasks, ms: selectCpu } = await run<SelectResult>(
      { kind: 'select', prepared, preds, forestParts: 2 * pool.size },
      { signal },
    );
    const select_ms = lap();

    // Final fits, longest first (T-learners are one task each; forest parts are small); models are kept
    // in finalTasks order for assembleFinal.
    const finalOut: FinalResult[] = new Array(finalTasks.length);
    const finalOrder = finalTasks.map((_, j) => j).sort((a, b) => finalCost(finalTasks[b]) - finalCost(finalTasks[a]) || a - b);
    const finalJobs = finalOrder.map((j) =>
      run<FinalResult>({ kind: 'final', prepared, spec: finalTasks[j] }, { signal }).then((r) => {
        finalOut[j] = r;
      }),
    );
    // The held-out split importance (feature_importance) of the chosen members' CV fits, queued behind the
    // final fits; the other configurations' fits never need it. Summed over the folds in fold order, as
    // select sums cvFit's importances, so the numbers are the same as runPipeline's.
    const importanceCpu: number[] = [];
    const importanceJobs = selection.members.map(async (m, idx) => {
      const fits = cvOut.slice(m * k, (m + 1) * k);
      if (!fits.every((r) => r.model)) return;
      const imps = await Promise.all(
        fits.map((r, f) =>
          run<ImportanceResult>({ kind: 'importance', prepared, fold: f, model: r.model as ModelBuffers, preds: r.preds }, { signal }).then((x) => {
            importanceCpu.push(x.ms ?? 0);
            return x.importance;
          }),
        ),
      );
      if (!imps.every((x) => x && x.length === prepared.data.features.length)) return;
      const sum = new Float64Array(prepared.data.features.length);
      for (const imp of imps as Float64Array[]) for (let j = 0; j < imp.length; j++) sum[j] += imp[j];
      selection.memberImportance[idx] = sum;
    });
    await Promise.all([...finalJobs, ...importanceJobs]);
    for (const r of cvOut) r.model = null;
    const models = finalOut.map((r) => r.model);
    const final_ms = lap();

    const trainMs = performance.now() - t0;
    // Score every row with the final model in POOL_SIZE row ranges at once (finish would predict on one
    // thread); a row's prediction does not depend on the other rows, so the result is the same.
    const n = prepared.data.n;
    const parts = Math.max(1, Math.min(pool.size, Math.floor(n / 256)));
    const rawScores = new Float64Array(n);
    const scoreCpu: number[] = [];
    await Promise.all(
      Array.from({ length: parts }, (_, p) => {
        const from = Math.floor((p * n) / parts);
        const to = Math.floor(((p + 1) * n) / parts);
        return run<ScoreResult>({ kind: 'score', prepared, members: selection.members, finalTasks, models, from, to }, { signal }).then((r) => {
          rawScores.set(r.preds, from);
          scoreCpu.push(r.ms ?? 0);
        });
      }),
    );
    const score_ms = lap();
    const { check: randomization, ms: randomizationCpu } = await randJob;
    const rand_wait_ms = lap();
    const out = await run<PipelineTaskResult>(
      { kind: 'finish', prepared, selection, finalTasks, models, trainMs, randomization, raw: rawScores },
      { signal, transferList: [rawScores.buffer] },
    );
    const finish_ms = lap();

    const sum = (xs: (number | undefined)[]): number => Math.round(xs.reduce<number>((a, x) => a + (x ?? 0), 0));
    return {
      result: out.result,
      job_ms: Math.round(performance.now() - t0),
      timings: {
        prepare_ms,
        cv_ms,
        select_ms,
        final_ms,
        score_ms,
        rand_wait_ms,
        finish_ms,
        cv_tasks: cvSpecs.length,
        final_tasks: finalTasks.length,
        cpu_prepare_ms: sum([prepareCpu]),
        cpu_cv_ms: sum(cvOut.map((r) => r.ms)),
        cpu_select_ms: sum([selectCpu]),
        cpu_final_ms: sum(finalOut.map((r) => r.ms)),
        cpu_score_ms: sum(scoreCpu),
        cpu_importance_ms: sum(importanceCpu),
        cpu_randomization_ms: sum([randomizationCpu]),
        cpu_finish_ms: sum([out.worker_ms]),
      },
    };
  });
}
