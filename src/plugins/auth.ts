/**
 * Authentication: X-Customer-Api-Id (a UUID) + X-Secret, checked against the key store with
 * @fastify/auth. Every failure - missing header, repeated header, malformed id, over-long secret, unknown
 * id, revoked key, wrong secret - throws the same error, which the error handler turns into one
 * byte-identical 401 body. Well-formed credentials always cost one scrypt hash (see KeyStore.verify).
 *
 * Routes opt in with `onRequest: app.requireApiKey` (runs before the body is read, so an unauthenticated
 * client cannot make the server buffer or parse a large body).
 */
import fastifyAuth from '@fastify/auth';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { fail, Unauthorized, UNAUTHORIZED_MESSAGE } from '../errors.js';
import { KeyStore, MAX_SECRET_LENGTH, UUID_RE } from '../keys/store.js';
import { globalPlugin } from './util.js';

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore;
    verifyApiKey: (request: FastifyRequest) => Promise<void>;
    requireApiKey: onRequestHookHandler;
  }
  interface FastifyRequest {
    /** The authenticated customer (lower-case UUID), null before/without authentication. */
    customerId: string | null;
  }
}

export interface AuthPluginOptions {
  keyStore: KeyStore;
}

function header(request: FastifyRequest, name: string): string | null {
  const v = request.headers[name];
  return typeof v === 'string' ? v : null;
}

export const authPlugin = globalPlugin(async function auth(app: FastifyInstance, opts: AuthPluginOptions) {
  const store = opts.keyStore;
  app.decorate('keyStore', store);
  app.decorateRequest('customerId', null);

  app.decorate('verifyApiKey', async function verifyApiKey(request: FastifyRequest): Promise<void> {
    const id = header(request, 'x-customer-api-id');
    const secret = header(request, 'x-secret');
    if (id === null || secret === null || !UUID_RE.test(id) || secret.length === 0 || secret.length > MAX_SECRET_LENGTH) {
      throw fail(Unauthorized, UNAUTHORIZED_MESSAGE);
    }
    if (!(await store.verify(id, secret))) throw fail(Unauthorized, UNAUTHORIZED_MESSAGE);
    request.customerId = id.toLowerCase();
  });

  await app.register(fastifyAuth);
  app.decorate('requireApiKey', app.auth([app.verifyApiKey]) as onRequestHookHandler);
}, 'uplift-auth');
