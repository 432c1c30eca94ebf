/** Shared test helpers for the service tests (not a test file itself). */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { KeyStore } from '../../src/keys/store.js';
import type { JobRunner } from '../../src/plugins/pool.js';
import type { PoolTask } from '../../schemas/task.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

/** The spec's example request (210 rows), copied from ../shared/spec. */
export function exampleRequest(): { contamination: number; rows: Array<{ id: string; treatment: number; outcome: number; features: Record<string, unknown> }>; options?: Record<string, unknown> } {
  return JSON.parse(readFileSync(path.join(FIXTURES, 'example-request.json'), 'utf8'));
}
export function exampleResponse(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, 'example-response.json'), 'utf8'));
}

/** Cheap scrypt parameters for tests (the format and code path are the same as production). */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1, keylen: 32 };

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'uplift-test-'));
}

export async function makeStore(): Promise<{ store: KeyStore; id: string; secret: string; file: string }> {
  const file = path.join(tempDir(), 'keys.json');
  const store = new KeyStore(file, { scrypt: TEST_SCRYPT, reloadIntervalMs: 0 });
  const { customer_api_id, secret } = await store.create('test');
  return { store, id: customer_api_id, secret, file };
}

/** A runner that must not be reached (proves a request was rejected before any work was queued). */
export function forbiddenRunner(): JobRunner & { calls: number } {
  const r = {
    calls: 0,
    size: 1,
    queueSize: 0,
    async run(task: PoolTask) {
      if (task.kind === 'ping') return { kind: 'pong', threadId: 0 };
      r.calls++;
      throw new Error('the runner must not be reached in this test');
    },
    async close() {},
  };
  return r;
}

/** Runs the real worker function in-process (no threads): the engine end to end, cheaply. */
export async function inProcessRunner(size = 1): Promise<JobRunner & { tasks: PoolTask[] }> {
  const { default: uplift } = await import('../../workers/uplift.js');
  const tasks: PoolTask[] = [];
  return {
    tasks,
    size,
    queueSize: 0,
    async run(task: PoolTask) {
      tasks.push(task);
      return uplift(task);
    },
    async close() {},
  };
}

export function testConfig(over: Partial<Config> = {}): Config {
  return { ...loadConfig({}), poolSize: 1, maxQueue: 2, logLevel: 'silent', ...over };
}

export async function makeApp(opts: { runner?: JobRunner; config?: Partial<Config>; logger?: Record<string, unknown> } = {}) {
  const { store, id, secret, file } = await makeStore();
  const app = await buildApp({
    config: testConfig(opts.config),
    keyStore: store,
    runner: opts.runner ?? forbiddenRunner(),
    logger: opts.logger,
  });
  await app.ready();
  await app.pool.whenReady;
  const headers = { 'x-customer-api-id': id, 'x-secret': secret, 'content-type': 'application/json' };
  return { app, store, id, secret, file, headers };
}

/** n synthetic valid rows (alternating groups, some conversions in both). */
export function syntheticRows(n: number, seed = 1): Array<{ id: string; treatment: number; outcome: number; features: Record<string, unknown> }> {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const rows = [];
  for (let i = 0; i < n; i++) {
    const t = i % 2;
    const age = 20 + Math.floor(rnd() * 50);
    const p = 0.2 + (t ? (age < 40 ? 0.3 : 0) : 0);
    rows.push({
      id: `R-${i}`,
      treatment: t,
      outcome: rnd() < p ? 1 : 0,
      features: { age, country: ['US', 'BR', 'UK'][i % 3], score: Math.round(rnd() * 1000) / 1000 },
    });
  }
  return rows;
}
