/**
 * Response body of POST /api/v1/ai/uplift_model (SPEC.md "Response 200"). Fastify compiles it with
 * fast-json-stringify, which matters for 50 000+ `details` entries; properties not listed here are NOT
 * serialized, so every addition (issue 4: model, feature_importance, evaluation, warnings) is declared
 * here in full, as optional keys (the SPEC fields keep their meaning).
 */
import { Type, type Static } from 'typebox';

export const DecileRow = Type.Object({
  decile: Type.Integer(),
  mean_uplift: Type.Number(),
  n_customers: Type.Integer(),
});

export const Detail = Type.Object({
  id: Type.String(),
  uplift_score: Type.Number(),
  uplift_decile: Type.Integer(),
});

/** A number, or null when it cannot be computed (e.g. a Qini coefficient with no converters). */
const NumberOrNull = Type.Unsafe<number | null>({ type: ['number', 'null'] });

export const ModelCalibration = Type.Object({
  applied: Type.Boolean(),
  slope: Type.Number(),
  center: Type.Number(),
  method: Type.String(),
});

export const ModelInfo = Type.Object({
  type: Type.String(),
  criterion: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  hyperparameters: Type.Unsafe<Record<string, number | string>>({
    type: 'object',
    additionalProperties: { type: ['number', 'string'] },
  }),
  seed: Type.Integer(),
  cv: Type.Array(
    Type.Object({
      config: Type.String(),
      mean_qini: NumberOrNull,
      fold_qini: Type.Array(NumberOrNull),
    }),
  ),
  train_ms: Type.Number(),
  calibration: Type.Optional(ModelCalibration),
});

export const FeatureImportance = Type.Object({
  feature: Type.String(),
  importance: Type.Number(),
});

/** Issue 4 (trust): every field is described in docs/evaluation.md. */
export const QiniPoint = Type.Object({
  fraction: Type.Number(),
  incremental_conversions: Type.Number(),
  random: Type.Number(),
});

export const EvaluationDecile = Type.Object({
  decile: Type.Integer(),
  n_customers: Type.Integer(),
  n_treated: Type.Integer(),
  n_control: Type.Integer(),
  predicted_uplift: Type.Number(),
  observed_uplift: NumberOrNull,
  observed_uplift_se: NumberOrNull,
});

export const Heterogeneity = Type.Object({
  p_value: Type.Number(),
  significant: Type.Boolean(),
  slope: NumberOrNull,
  slope_se: NumberOrNull,
  test: Type.String(),
  fold_p_values: Type.Array(Type.Number()),
  candidate_p_values: Type.Optional(Type.Array(Type.Number())),
});

export const RandomizationCheck = Type.Object({
  auc: Type.Number(),
  null_se: Type.Number(),
  flagged: Type.Boolean(),
});

export const Evaluation = Type.Object({
  qini_coefficient: NumberOrNull,
  qini_curve: Type.Array(QiniPoint),
  deciles: Type.Array(EvaluationDecile),
  ate: Type.Object({
    estimate: Type.Number(),
    ci95: Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }),
  }),
  heterogeneity: Heterogeneity,
  randomization_check: RandomizationCheck,
});

export const Warning = Type.Object({ code: Type.String(), message: Type.String() });

export const UpliftResponse = Type.Object({
  average_treatment_effect: Type.Number(),
  treatment_cr: Type.Number(),
  control_cr: Type.Number(),
  decile_summary: Type.Array(DecileRow),
  details: Type.Array(Detail),
  interpretation: Type.String(),
  model: Type.Optional(ModelInfo),
  feature_importance: Type.Optional(Type.Array(FeatureImportance)),
  evaluation: Type.Optional(Evaluation),
  warnings: Type.Optional(Type.Array(Warning)),
});
export type UpliftResponse = Static<typeof UpliftResponse>;
export type ModelInfo = Static<typeof ModelInfo>;
export type EvaluationBlock = Static<typeof Evaluation>;
