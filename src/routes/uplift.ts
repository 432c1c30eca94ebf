/**
 * POST /api/v1/ai/uplift_model - the thin handler: authenticated (onRequest), schema-validated body ->
 * data checks (422) -> column-major dataset -> one pool job -> SPEC-shaped response.
 *
 * The event loop only converts rows to columns (toRawDataset) and builds the response; encoding,
 * training and scoring run as one job of parallel tasks on the worker pool (src/plugins/jobs.ts). The
 * dataset's ArrayBuffers are moved to a worker (transfer list), never the row objects.
 */
import type { FastifyInstance } from 'fastify';
import { RequestBody, type RequestRow } from '../../schemas/request.js';
import { UpliftResponse } from '../../schemas/response.js';
import { toRawDataset } from '../ml/data/columnar.js';
import { runUpliftJob } from '../plugins/jobs.js';
import type { RawDataset } from '../ml/types.js';
import type { PipelineOutput } from '../ml/pipeline.js';
import type { JobOptions } from '../../schemas/task.js';
import { checkSufficient, checkUniqueIds } from './checks.js';

export const UPLIFT_PATH = '/api/v1/ai/uplift_model';

/** Rounds to 4 decimals (SPEC: rates and scores), without producing -0. */
export function round4(x: number): number {
  const r = Math.round(x * 1e4) / 1e4;
  return r === 0 ? 0 : r;
}

/** round4, or null for a value that cannot be computed (NaN / infinite). */
function round4OrNull(x: number): number | null {
  return Number.isFinite(x) ? round4(x) : null;
}

/** 4 significant digits (a slope near 0 keeps its precision). */
function sig4(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/**
 * The SPEC response from the engine's result (`ids` in input order), plus the issue-4 blocks `model`,
 * `feature_importance`, `evaluation` and `warnings` (docs/evaluation.md). The evaluation arrives already
 * rounded from the engine (src/ml/eval/trust.ts buildEvaluation).
 */
export function buildResponse(ids: readonly string[], r: PipelineOutput): UpliftResponse {
  const n = ids.length;
  const details = new Array<{ id: string; uplift_score: number; uplift_decile: number }>(n);
  for (let i = 0; i < n; i++) details[i] = { id: ids[i], uplift_score: round4(r.scores[i]), uplift_decile: r.deciles[i] };
  return {
    average_treatment_effect: round4(r.average_treatment_effect),
    treatment_cr: round4(r.treatment_cr),
    control_cr: round4(r.control_cr),
    decile_summary: r.decile_summary.map((d) => ({ decile: d.decile, mean_uplift: round4(d.mean_uplift), n_customers: d.n_customers })),
    details,
    interpretation: r.interpretation,
    model: {
      type: r.model.type,
      criterion: r.model.criterion,
      hyperparameters: r.model.hyperparameters,
      seed: r.model.seed,
      cv: r.model.cv.map((c) => ({ config: c.config, mean_qini: round4OrNull(c.mean_qini), fold_qini: c.fold_qini.map(round4OrNull) })),
      train_ms: Math.round(r.model.train_ms),
      ...(r.model.calibration
        ? {
            calibration: {
              applied: r.model.calibration.applied,
              slope: sig4(r.model.calibration.slope),
              center: round4(r.model.calibration.center),
              method: r.model.calibration.method,
            },
          }
        : {}),
    },
    feature_importance: r.feature_importance.map((f) => ({ feature: f.feature, importance: round4(f.importance) })),
    evaluation: r.evaluation,
    warnings: r.warnings,
  };
}

/** Data checks (422), then rows -> columns + ids + options. Synchronous, on the event loop. */
export function toJobInput(body: RequestBody): { raw: RawDataset; ids: string[]; options: JobOptions } {
  const rows: RequestRow[] = body.rows;
  checkSufficient(rows);
  checkUniqueIds(rows);
  const raw = toRawDataset(rows);
  const ids = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) ids[i] = rows[i].id;
  return {
    raw,
    ids,
    options: { model: body.options?.model ?? 'auto', seed: body.options?.seed, contamination: body.contamination ?? 0 },
  };
}

export async function upliftRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: RequestBody }>(
    UPLIFT_PATH,
    {
      onRequest: app.requireApiKey,
      // Per-customer rate limit (src/plugins/rate-limit.ts), checked after auth, before the body is read.
      config: { rateLimit: {} },
      // Refuse at once when the pool is full, before reading and parsing a possibly huge body (the
      // admission in app.pool.job stays the definitive check).
      preParsing: async () => {
        if (app.pool.full) throw app.pool.overloadedError();
      },
      schema: { body: RequestBody, response: { 200: UpliftResponse } },
    },
    async (request, reply) => {
      const tc = performance.now();
      request.job.rows = request.body.rows.length;
      const { raw, ids, options } = toJobInput(request.body);
      // Drop the row objects before the (long) job: only ids and columns are needed from here on (the
      // handler keeps no reference to them either: toJobInput is a separate frame).
      (request as { body: unknown }).body = undefined;
      request.job.marks.columns_ms = Math.round(performance.now() - tc);

      // A client that hangs up cancels its job (a running job's thread is terminated and replaced).
      const ac = new AbortController();
      const onClose = (): void => {
        if (reply.raw.writableFinished) return;
        ac.abort();
        request.log.info(
          { method: request.method, url: UPLIFT_PATH, customer_id: request.customerId, rows: request.job.rows, duration_ms: Math.round(performance.now() - request.job.start) },
          'client closed the connection: job cancelled',
        );
      };
      reply.raw.once('close', onClose);
      try {
        const out = await runUpliftJob(app.pool, raw, options, ac.signal, app.jobTimeoutS);
        request.job.model = out.result.model.type;
        request.job.job_ms = out.job_ms;
        Object.assign(request.job.marks, out.timings);
        const tb = performance.now();
        const response = buildResponse(ids, out.result);
        request.job.marks.build_ms = Math.round(performance.now() - tb);
        request.job.handlerEnd = performance.now();
        return response;
      } finally {
        reply.raw.removeListener('close', onClose);
      }
    },
  );
}
