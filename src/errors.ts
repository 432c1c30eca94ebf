/**
 * Every error the API answers with, in one file. Each code has one HTTP status. The error handler in
 * src/app.ts turns any of them into the JSON body {statusCode, code, error, message, details?}.
 *
 * Construct with `fail(Code, message, details?)` so the optional `details` travel with the error.
 */
import createError, { type FastifyError } from '@fastify/error';
import { STATUS_CODES } from 'node:http';

export const Unauthorized = createError('UPLIFT_UNAUTHORIZED', '%s', 401);
export const InvalidRequest = createError('UPLIFT_INVALID_REQUEST', '%s', 400);
export const MalformedJson = createError('UPLIFT_MALFORMED_JSON', '%s', 400);
export const UnsupportedMediaType = createError('UPLIFT_UNSUPPORTED_MEDIA_TYPE', '%s', 415);
export const BodyTooLarge = createError('UPLIFT_BODY_TOO_LARGE', '%s', 413);
/** A configured request limit (MAX_ROWS, MAX_FEATURES) exceeded; details name the limit and the value. */
export const LimitExceeded = createError('UPLIFT_LIMIT_EXCEEDED', '%s', 413);
export const InsufficientData = createError('UPLIFT_INSUFFICIENT_DATA', '%s', 422);
export const DuplicateId = createError('UPLIFT_DUPLICATE_ID', '%s', 422);
export const NotFound = createError('UPLIFT_NOT_FOUND', '%s', 404);
export const MethodNotAllowed = createError('UPLIFT_METHOD_NOT_ALLOWED', '%s', 405);
export const RateLimited = createError('UPLIFT_RATE_LIMITED', '%s', 429);
export const Overloaded = createError('UPLIFT_OVERLOADED', '%s', 503);
export const ShuttingDown = createError('UPLIFT_SHUTTING_DOWN', '%s', 503);
export const NotReady = createError('UPLIFT_NOT_READY', '%s', 503);
export const JobAborted = createError('UPLIFT_JOB_ABORTED', '%s', 499);
export const JobTimeout = createError('UPLIFT_JOB_TIMEOUT', '%s', 503);
export const Internal = createError('UPLIFT_INTERNAL', '%s', 500);

/** The one body every authentication failure gets (missing, malformed, unknown id, wrong secret). */
export const UNAUTHORIZED_MESSAGE = 'Missing or invalid credentials: send X-Customer-Api-Id and X-Secret';

/** The one message a 5xx carries to the client; the real cause goes to the log with the request id. */
export const INTERNAL_MESSAGE = 'Internal error; the request id is in the X-Request-Id header';

type Ctor = new (message: string) => FastifyError;

export interface ApiError extends FastifyError {
  details?: Record<string, unknown>;
  /** Seconds for a Retry-After header (429/503). */
  retryAfter?: number;
}

/** Builds an API error of the given kind with a message and optional details. */
export function fail(kind: Ctor, message: string, details?: Record<string, unknown>, retryAfter?: number): ApiError {
  const err = new kind(message) as ApiError;
  if (details !== undefined) err.details = details;
  if (retryAfter !== undefined) err.retryAfter = retryAfter;
  return err;
}

/** Wire shape of every error (see schemas/error.ts). */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

export function errorBody(statusCode: number, code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  const body: ErrorBody = { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (details !== undefined) body.details = details;
  return body;
}
