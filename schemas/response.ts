/**
 * Response body of POST /api/v1/ai/uplift_model (SPEC.md "Response 200"). Fastify compiles it with
 * fast-json-stringify, which matters for 50 000+ `details` entries; properties not listed here are NOT
 * serialized, so additions (issue 4: evaluation, warnings) must be added here as optional keys.
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
      mean_qini: Type.Number(),
      fold_qini: Type.Array(Type.Number()),
    }),
  ),
  train_ms: Type.Number(),
});

export const FeatureImportance = Type.Object({
  feature: Type.String(),
  importance: Type.Number(),
});

/** Issue 4 (trust): passed through from the engine when it provides them; described in docs/evaluation.md. */
export const Evaluation = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true });
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
