/**
 * GET /health: liveness, no auth, no work - answers 200 as long as the event loop runs.
 * GET /ready: readiness, no auth - 200 once every worker thread has answered a ping, 503 before that
 * and while shutting down.
 */
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.js';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const stats = app.pool.stats();
    if (!app.pool.ready) {
      reply.header('retry-after', '1');
      return reply
        .code(503)
        .send(errorBody(503, 'UPLIFT_NOT_READY', app.pool.closing ? 'The service is shutting down' : 'The worker pool is starting', { pool: stats }));
    }
    return { status: 'ready', pool: stats };
  });
}
