/**
 * The process: configuration, the first API key, listen, graceful shutdown.
 *
 * - With no active key in the store, one key named "default" is created and printed once to stdout
 *   (only its hash is stored).
 * - SIGTERM / SIGINT: stop accepting connections, let in-flight requests (and their jobs) finish, close
 *   the worker pool, exit 0. If that takes longer than SHUTDOWN_GRACE_S, exit 1. A second signal exits 1
 *   at once.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { KeyStore } from './keys/store.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }

  const keyStore = new KeyStore(config.keysFile);
  if (keyStore.activeCount() === 0) {
    const key = await keyStore.create('default');
    process.stdout.write(
      `No API key in ${keyStore.file}; created one. Save the secret now: only its hash is stored and it will not be shown again.\n` +
        `${JSON.stringify(key)}\n`,
    );
  }

  const app = await buildApp({ config, keyStore });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal, grace_s: config.shutdownGraceS }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      app.log.error('shutdown grace period over: exiting with jobs unfinished');
      process.exit(1);
    }, config.shutdownGraceS * 1000);
    timer.unref();
    // Keep-alive connections that go idle after their last response are closed right away.
    const idle = setInterval(() => app.server.closeIdleConnections(), 250);
    idle.unref();
    app.close().then(
      () => {
        app.log.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  try {
    await app.pool.whenReady;
    app.log.info({ pool_size: config.poolSize, max_queue: config.maxQueue }, 'worker pool ready');
  } catch (err) {
    app.log.fatal({ err }, 'worker pool failed to start (is dist/ built? run `npm run build`)');
    await app.close().catch(() => undefined);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
