/**
 * The root of the web layer: builds a Fastify instance with the JSON body parser, the one error handler,
 * authentication, the worker pool and the routes. src/server.ts adds the process concerns (listen,
 * signals); tests call buildApp() and use app.inject().
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { fail, MalformedJson, Overloaded, ShuttingDown } from './errors.js';
import type { KeyStore } from './keys/store.js';
import { authPlugin } from './plugins/auth.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { poolPlugin, type JobRunner } from './plugins/pool.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { healthRoutes } from './routes/health.js';
import { checkLimits } from './routes/checks.js';
import { UPLIFT_PATH, upliftRoutes } from './routes/uplift.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** JOB_TIMEOUT_S (0 = no deadline). */
    jobTimeoutS: number;
    /** Request-body bytes currently admitted on the scoring route (see MAX_BODY_BYTES_IN_FLIGHT). */
    bodyBytesInFlight: () => number;
  }
  interface FastifyRequest {
    /** Facts about the job for the one log line per request. */
    job: RequestJob;
  }
}

export interface AppOptions {
  config: Config;
  keyStore: KeyStore;
  /** Replaces the Piscina pool (tests). */
  runner?: JobRunner;
  /** Compiled worker file for the Piscina pool (default dist/workers/uplift.js). */
  workerFile?: string;
  /** Extra pino options (e.g. a `stream` to capture logs in tests). */
  logger?: Record<string, unknown> | false;
}

/** Header paths pino must never print, wherever a request or its headers get logged. */
export const REDACT_PATHS = [
  'req.headers["x-secret"]',
  'request.headers["x-secret"]',
  'headers["x-secret"]',
  'req.headers.authorization',
  'headers.authorization',
];

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const logger: FastifyServerOptions['logger'] =
    opts.logger === false
      ? false
      : {
          level: config.logLevel,
          redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
          ...(opts.logger ?? {}),
        };

  const app = Fastify({
    logger,
    bodyLimit: config.bodyLimit,
    // Fastify's own per-request lines are off; the onResponse hook below writes one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // Requests arriving during shutdown get our own 503 UPLIFT_SHUTTING_DOWN (JSON shape, Retry-After) from
    // the onRequest hook below instead of Fastify's bare 503.
    return503OnClosing: false,
    ajv: {
      // Strict JSON types: "1" is not 1, nothing is silently coerced or removed; stop at the first error
      // (allErrors would let a hostile body make the validator collect millions of errors).
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true },
    },
  });

  // JSON only; no text/plain parser, so other media types get 415. JSON.parse itself (no prototype
  // scanning): "__proto__" in a body becomes an ordinary own property, and the engine keys features by
  // a Map, so such names are plain feature names and cannot pollute prototypes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(fail(MalformedJson, 'The body is empty; send a JSON object'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      const msg = (e as Error).message;
      done(fail(MalformedJson, `The body is not valid JSON: ${msg.length > 300 ? `${msg.slice(0, 300)}...` : msg}`), undefined);
    }
  });

  app.decorateRequest('job', null as unknown as RequestJob);
  app.addHook('onRequest', (request, reply, done) => {
    request.job = { marks: {}, start: performance.now() };
    reply.header('x-request-id', request.id);
    // Shutting down: no new work (health and readiness probes still answer; /ready says 503 itself).
    const path = request.url.split('?')[0];
    if (app.pool?.closing && path !== '/health' && path !== '/ready') {
      done(fail(ShuttingDown, 'The service is shutting down and accepts no new work; retry in a few seconds', undefined, 5));
      return;
    }
    done();
  });
  // Time marks: body read + JSON parse (preValidation), schema validation (preHandler), serialization (onSend).
  app.addHook('preValidation', (request, _reply, done) => {
    request.job.marks.auth_read_parse_ms = Math.round(performance.now() - request.job.start);
    request.job.handlerEnd = performance.now();
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.job.handlerEnd !== undefined) request.job.marks.validate_ms = Math.round(performance.now() - request.job.handlerEnd);
    request.job.handlerEnd = undefined;
    done();
  });
  // One log line per request: who, how many rows, which model, how long. Never headers or secrets.
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, or for unknown routes the path without its query string (a client might put
    // anything there, credentials included), shortened.
    const path = request.url.split('?')[0];
    const url = request.routeOptions.url ?? (path.length > 200 ? `${path.slice(0, 200)}...` : path);
    request.log.info(
      {
        method: request.method,
        url,
        statusCode: reply.statusCode,
        customer_id: request.customerId,
        rows: request.job?.rows,
        model: request.job?.model,
        job_ms: request.job?.job_ms,
        duration_ms: Math.round(reply.elapsedTime),
        ...(request.job?.model !== undefined ? { timings: request.job.marks } : {}),
      },
      'request completed',
    );
    done();
  });

  app.decorate('jobTimeoutS', config.jobTimeoutS);
  // A client that hangs up while still sending its body (after that, the route logs and cancels the job).
  app.addHook('onRequestAbort', (request, done) => {
    request.log.info(
      {
        method: request.method,
        url: request.routeOptions.url,
        customer_id: request.customerId,
        rows: request.job?.rows,
        duration_ms: request.job ? Math.round(performance.now() - request.job.start) : undefined,
      },
      'request aborted by the client',
    );
    done();
  });
  await app.register(errorHandlerPlugin);
  await app.register(authPlugin, { keyStore: opts.keyStore });
  await app.register(rateLimitPlugin, { max: config.rateLimitMax, windowS: config.rateLimitWindowS });
  await app.register(poolPlugin, {
    poolSize: config.poolSize,
    maxQueue: config.maxQueue,
    filename: opts.workerFile,
    runner: opts.runner,
  });
  // While shutting down, tell keep-alive clients to close the connection after this response, so the
  // server can finish closing as soon as in-flight requests are done.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (app.pool.closing) reply.header('connection', 'close');
    if (request.job?.handlerEnd !== undefined) request.job.marks.serialize_ms = Math.round(performance.now() - request.job.handlerEnd);
    done(null, payload);
  });
  // The configured request limits (MAX_ROWS, MAX_FEATURES, MAX_ID_LENGTH, MAX_FEATURE_NAME_LENGTH) on the
  // scoring route: after parsing, before schema validation (see checkLimits).
  const limits = config.limits;
  // Bodies admitted for reading at once (MAX_BODY_BYTES_IN_FLIGHT): job admission only counts jobs, so
  // without this, many concurrent large uploads could all be buffered and parsed before any is refused.
  // A request is charged its Content-Length (BODY_LIMIT when chunked) from preParsing until its response
  // is finished or aborted; one request is always admitted when nothing else is in flight.
  let bodyBytes = 0;
  const admitBody = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const declared = Number(request.headers['content-length']);
    const size = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, config.bodyLimit) : config.bodyLimit;
    if (bodyBytes > 0 && bodyBytes + size > config.bodyBytesInFlight) {
      throw fail(
        Overloaded,
        'Too many large request bodies are being processed; retry later',
        { body_bytes_in_flight: bodyBytes, max_body_bytes_in_flight: config.bodyBytesInFlight },
        app.pool.overloadedError().retryAfter,
      );
    }
    bodyBytes += size;
    reply.raw.once('close', () => {
      bodyBytes -= size;
    });
  };
  app.decorate('bodyBytesInFlight', () => bodyBytes);
  app.addHook('onRoute', (route) => {
    if (route.url !== UPLIFT_PATH || route.method !== 'POST') return;
    const pre = route.preParsing;
    route.preParsing = pre === undefined ? [admitBody] : [...(Array.isArray(pre) ? pre : [pre]), admitBody];
    const check = (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void => {
      try {
        checkLimits(request.body, limits);
        done();
      } catch (err) {
        done(err as Error);
      }
    };
    const prev = route.preValidation;
    route.preValidation = prev === undefined ? [check] : [...(Array.isArray(prev) ? prev : [prev]), check];
  });
  await app.register(healthRoutes);
  await app.register(upliftRoutes);
  return app;
}

/** What the request log line reports besides method, url and status. */
export interface RequestJob {
  rows?: number;
  model?: string;
  /** Wall time of the pool job, ms. */
  job_ms?: number;
  /** Where the time went, ms: auth + body read + JSON parse, validate, columns (checks + toRawDataset), the job's phases, build, serialize. */
  marks: Record<string, number>;
  /** performance.now() at request start / when the handler returned (internal). */
  start: number;
  handlerEnd?: number;
}
