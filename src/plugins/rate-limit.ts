/**
 * Per-customer rate limit on the scoring route (@fastify/rate-limit): at most RATE_LIMIT_MAX requests
 * per RATE_LIMIT_WINDOW_S seconds per authenticated customer id (in-memory, per process). It runs after
 * authentication (onRequest) and before the pool-full check and before the body is read, so a limited client cannot make the server parse its
 * body; the 429 carries Retry-After. RATE_LIMIT_MAX=0 turns it off. Routes opt in with
 * `config: { rateLimit: {} }`.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { fail, RateLimited } from '../errors.js';
import { globalPlugin } from './util.js';

export interface RateLimitOptions {
  max: number;
  windowS: number;
}

export const rateLimitPlugin = globalPlugin(async function limits(app: FastifyInstance, opts: RateLimitOptions) {
  if (opts.max <= 0) return;
  await app.register(rateLimit, {
    global: false,
    // onRequest, appended after the route's authentication hook: a customer over its limit gets 429
    // whatever the pool's state (before the pool-full and body-budget checks of preParsing), and no body
    // is read.
    hook: 'onRequest',
    max: opts.max,
    timeWindow: opts.windowS * 1000,
    // Authentication ran in onRequest, so every request reaching this hook has a customer id.
    keyGenerator: (request) => request.customerId ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      fail(
        RateLimited,
        `Rate limit exceeded: at most ${context.max} requests per ${opts.windowS} s per customer; retry in ${context.after}`,
        { limit: context.max, window_s: opts.windowS },
        Math.max(1, Math.ceil(context.ttl / 1000)),
      ),
  });
}, 'uplift-rate-limit');
