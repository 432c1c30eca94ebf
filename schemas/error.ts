/** The JSON body of every error response (SPEC.md "Errors"). */
import { Type, type Static } from 'typebox';

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
});
export type ErrorBody = Static<typeof ErrorBody>;
