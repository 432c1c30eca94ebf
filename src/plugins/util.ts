import type { FastifyPluginAsync } from 'fastify';

/**
 * Marks a plugin as not encapsulated (its decorators and hooks are visible to the parent), which is what
 * fastify-plugin does; written out here to avoid depending on a transitive package.
 */
export function globalPlugin<T extends FastifyPluginAsync<any>>(fn: T, name: string): T {
  const f = fn as unknown as Record<symbol, unknown>;
  f[Symbol.for('skip-override')] = true;
  f[Symbol.for('fastify.display-name')] = name;
  return fn;
}
