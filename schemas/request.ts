/**
 * Request body of POST /api/v1/ai/uplift_model (SPEC.md "Request body").
 *
 * Built by a function so limits can come from configuration. Notes on choices:
 * - `rows` has no minItems: fewer than 200 rows is "insufficient data" (422 with counts), not a schema error.
 * - Extra keys at the top level and in a row are ignored (forward compatible); `options` is strict, so a
 *   misspelt option is reported instead of silently ignored.
 * - A feature value is a number, a string or null; an absent key is a missing value too.
 */
import { Type, type Static } from 'typebox';

export const MODEL_CHOICES = ['auto', 'uplift_rf', 't_learner'] as const;
export type ModelChoiceWire = (typeof MODEL_CHOICES)[number];

/** Largest accepted seed: seeds are used as unsigned 32-bit integers. */
export const MAX_SEED = 4294967295;

/**
 * The schema's own hard ceiling on an id's length. The configured limits (MAX_ROWS, MAX_FEATURES,
 * MAX_ID_LENGTH <= this, MAX_FEATURE_NAME_LENGTH) are checked before schema validation by checkLimits
 * (src/routes/checks.ts), so they can change with the environment without recompiling this schema.
 */
export const ID_LENGTH_CEILING = 65536;

export interface RequestLimits {
  /** Longest id, characters. */
  maxIdLength: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxIdLength: ID_LENGTH_CEILING };

export type FeatureValue = number | string | null;

export function requestBodySchema(limits: RequestLimits = DEFAULT_REQUEST_LIMITS) {
  const Features = Type.Unsafe<Record<string, FeatureValue>>({
    type: 'object',
    additionalProperties: { type: ['number', 'string', 'null'] },
  });
  const Row = Type.Object({
    id: Type.String({ minLength: 1, maxLength: limits.maxIdLength }),
    treatment: Type.Integer({ minimum: 0, maximum: 1 }),
    outcome: Type.Integer({ minimum: 0, maximum: 1 }),
    features: Features,
  });
  const Options = Type.Object(
    {
      model: Type.Optional(Type.Unsafe<ModelChoiceWire>({ type: 'string', enum: [...MODEL_CHOICES] })),
      seed: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SEED })),
    },
    { additionalProperties: false },
  );
  return Type.Object({
    contamination: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
    rows: Type.Array(Row),
    options: Type.Optional(Options),
  });
}

export const RequestBody = requestBodySchema();
export type RequestBody = Static<typeof RequestBody>;
export type RequestRow = RequestBody['rows'][number];
