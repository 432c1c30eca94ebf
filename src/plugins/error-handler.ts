/**
 * The one error handler: every failure leaves as JSON {statusCode, code, error, message, details?}.
 *
 * - Our own errors (src/errors.ts) pass through with their code, message and details.
 * - Fastify's body-parsing errors are mapped: 413 too large, 415 media type, 400 empty / invalid body.
 * - Schema violations (Ajv, first error only) become 400 UPLIFT_INVALID_REQUEST naming the JSON pointer
 *   of the offending value (`/rows/17/treatment`) and, for row errors, the row's index and id.
 * - Anything else is a bug: 500 with a generic message; the cause is logged with the request id. A 4xx
 *   from some other library keeps its status but gets a generic code.
 * - Retry-After is set for 429/503 when the error knows it.
 * - An error answered before the request body was fully received closes the connection, unless the
 *   body's Content-Length is at most DRAIN_MAX_BYTES (then Node drains it and keeps the connection).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  BodyTooLarge,
  errorBody,
  fail,
  INTERNAL_MESSAGE,
  InvalidRequest,
  MalformedJson,
  MethodNotAllowed,
  NotFound,
  UNAUTHORIZED_MESSAGE,
  UnsupportedMediaType,
  type ApiError,
} from '../errors.js';
import { globalPlugin } from './util.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const OUR_CODE = /^UPLIFT_/;

/** Largest unread request body (by Content-Length) drained after an early error instead of closing. */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;

function describe(e: AjvError, pointer: string): string {
  const p = e.params;
  const leaf = pointer.slice(pointer.lastIndexOf('/') + 1);
  switch (e.keyword) {
    case 'required':
      return `${pointer} is required`;
    case 'type': {
      const t = String(p.type).split(',');
      return `${pointer} must be ${t.length > 1 ? `a ${t.slice(0, -1).join(', ')} or ${t[t.length - 1]}` : `a ${t[0]}`}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      if ((leaf === 'treatment' || leaf === 'outcome') && /^\/rows\/\d+\//.test(pointer)) return `${pointer} must be 0 or 1`;
      return `${pointer} must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'enum':
      return `${pointer} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'additionalProperties':
      return `${pointer} is not allowed here`;
    case 'minLength':
      return Number(p.limit) === 1 ? `${pointer} must not be empty` : `${pointer} must have at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `${pointer} must have at most ${String(p.limit)} characters`;
    default:
      return `${pointer} ${e.message ?? 'is invalid'}`;
  }
}

/** Turns Fastify's validation error into our 400 with the path and, for a row, its index and id. */
export function validationError(err: FastifyError & { validation?: AjvError[]; validationContext?: string }, body: unknown): ApiError {
  const first = err.validation?.[0];
  if (!first) return fail(InvalidRequest, `Invalid request: ${err.message}`);
  let pointer = first.instancePath || '';
  if (first.keyword === 'required') pointer += `/${String(first.params.missingProperty)}`;
  if (first.keyword === 'additionalProperties') pointer += `/${String(first.params.additionalProperty)}`;
  const shown = pointer === '' ? 'the body' : pointer;
  const details: Record<string, unknown> = { path: pointer, rule: first.keyword };
  let suffix = '';
  const m = /^\/rows\/(\d+)(?:\/|$)/.exec(pointer);
  if (m) {
    const index = Number(m[1]);
    details.row_index = index;
    const rows = (body as { rows?: unknown } | null | undefined)?.rows;
    const row = Array.isArray(rows) ? (rows[index] as { id?: unknown } | undefined) : undefined;
    if (row && typeof row === 'object' && typeof row.id === 'string') {
      details.row_id = row.id.length > 200 ? `${row.id.slice(0, 200)}...` : row.id;
      suffix = ` (row ${index}, id ${JSON.stringify(details.row_id)})`;
    } else {
      suffix = ` (row ${index})`;
    }
  }
  return fail(InvalidRequest, `Invalid request: ${describe(first, shown)}${suffix}`, details);
}

/** Maps any thrown value to an ApiError with a status and one of our codes. */
export function toApiError(err: FastifyError & { validation?: AjvError[] }, request: FastifyRequest): { e: ApiError; internal: boolean } {
  if (OUR_CODE.test(err.code ?? '')) return { e: err as ApiError, internal: err.code === 'UPLIFT_INTERNAL' };
  if (err.validation) return { e: validationError(err, request.body), internal: false };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { e: fail(BodyTooLarge, `Request body is larger than the limit of ${request.routeOptions.bodyLimit ?? 'the configured'} bytes (BODY_LIMIT)`), internal: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        e: fail(UnsupportedMediaType, `Unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '(none)')}; send application/json`),
        internal: false,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { e: fail(MalformedJson, 'The body is empty; send a JSON object'), internal: false };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { e: fail(MalformedJson, 'The body is not valid JSON'), internal: false };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { e: fail(MalformedJson, 'The body length does not match Content-Length'), internal: false };
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // A client error raised by Fastify or a library (e.g. a bad header); keep its status, give our shape.
    const e = fail(InvalidRequest, err.message || 'Bad request');
    (e as { statusCode: number }).statusCode = status;
    (e as { code: string }).code = status === 400 ? 'UPLIFT_INVALID_REQUEST' : `UPLIFT_HTTP_${status}`;
    return { e, internal: false };
  }
  return { e: err as ApiError, internal: true };
}

export const errorHandlerPlugin = globalPlugin(async function errors(app: FastifyInstance) {
  app.setErrorHandler(function (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const { e, internal } = toApiError(err, request);
    if (internal) {
      // Bugs and worker failures: the cause goes to the log only; the client sees a generic message.
      request.log.error({ err: (e as { cause?: unknown }).cause ?? e }, 'request failed');
      const status = e.statusCode && e.statusCode >= 500 ? e.statusCode : 500;
      reply.code(status).send(errorBody(status, 'UPLIFT_INTERNAL', INTERNAL_MESSAGE));
      return;
    }
    const status = e.statusCode ?? 400;
    if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
    // Refused before the whole body arrived (401, 429, 503 before parsing, 413 over BODY_LIMIT): a body of
    // known length up to DRAIN_MAX_BYTES is read and discarded by Node after the answer, so the client
    // (which is usually still sending) reliably gets it and can keep the connection; anything larger or
    // of unknown length (chunked) closes the connection rather than reading a possibly huge body.
    if (!request.raw.complete) {
      const declared = Number(request.headers['content-length']);
      if (!(Number.isFinite(declared) && declared <= DRAIN_MAX_BYTES)) reply.header('connection', 'close');
    }
    if (status === 401) {
      // One body for every authentication failure, whatever the cause.
      reply.code(401).send(errorBody(401, 'UPLIFT_UNAUTHORIZED', UNAUTHORIZED_MESSAGE));
      return;
    }
    reply.code(status).send(errorBody(status, e.code, e.message, e.details));
  });

  app.setNotFoundHandler(function (request: FastifyRequest, reply: FastifyReply) {
    const known = ['/api/v1/ai/uplift_model', '/health', '/ready'];
    const url = request.url.split('?')[0];
    if (known.includes(url)) {
      const e = fail(MethodNotAllowed, `Method ${request.method} is not allowed on ${url}`);
      reply.code(405).send(errorBody(405, e.code, e.message));
      return;
    }
    const e = fail(NotFound, `No route ${request.method} ${url}`);
    reply.code(404).send(errorBody(404, e.code, e.message));
  });
}, 'uplift-errors');
