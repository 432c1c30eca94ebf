/**
 * The service's whole configuration, read from the environment in one place.
 * Every variable is documented in the README's configuration table; keep the two in sync.
 */
import os from 'node:os';
import { ID_LENGTH_CEILING } from '../schemas/request.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** TCP port to listen on. */
  port: number;
  /** Interface to bind; 127.0.0.1 by default (use 0.0.0.0 in a container). */
  host: string;
  logLevel: LogLevel;
  /** Worker threads in the training pool. */
  poolSize: number;
  /** Jobs that may wait for a free worker; one more gets 503 + Retry-After. */
  maxQueue: number;
  /** Largest accepted request body, bytes. */
  bodyLimit: number;
  /**
   * Request bodies (by Content-Length; BODY_LIMIT when chunked) admitted for reading at once, bytes: a
   * scoring request that would pass it while another is in flight gets 503 before its body is read.
   */
  bodyBytesInFlight: number;
  /** Key store path (salted scrypt hashes only). */
  keysFile: string;
  /** Seconds a graceful shutdown waits for in-flight jobs before giving up. */
  shutdownGraceS: number;
  /** Seconds a job may run (waiting in the queue included) before it is cancelled; 0 = no deadline. */
  jobTimeoutS: number;
  /** Scoring requests per customer per window; 0 = no limit. */
  rateLimitMax: number;
  rateLimitWindowS: number;
  /** Request-shape limits (checked before schema validation; see src/routes/checks.ts checkLimits). */
  limits: RequestLimitsConfig;
}

/** Limits on the shape of one scoring request; each violation is a 4xx naming the variable and the value. */
export interface RequestLimitsConfig {
  /** MAX_ROWS: rows per request (413 UPLIFT_LIMIT_EXCEEDED). */
  maxRows: number;
  /** MAX_FEATURES: distinct feature names over all rows (413 UPLIFT_LIMIT_EXCEEDED). */
  maxFeatures: number;
  /** MAX_ID_LENGTH: characters in a row id (400 UPLIFT_INVALID_REQUEST). */
  maxIdLength: number;
  /** MAX_FEATURE_NAME_LENGTH: characters in a feature name (400 UPLIFT_INVALID_REQUEST). */
  maxFeatureNameLength: number;
}

/** Defaults: 1 M rows (the product's largest campaign), 1000 features, 1024-character ids, 256-character names. */
export const DEFAULT_LIMITS: RequestLimitsConfig = { maxRows: 1_000_000, maxFeatures: 1000, maxIdLength: 1024, maxFeatureNameLength: 256 };
/** Hard ceiling of MAX_ID_LENGTH (the request schema's own maxLength, see schemas/request.ts). */
export const MAX_ID_LENGTH_CEILING = ID_LENGTH_CEILING;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {}

function intVar(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  const v = Number(raw.trim());
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** Number of cores this process may use (cgroup-aware on Node >= 18.14). */
export function availableCores(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n);
}

/**
 * Default body limit: 500 MiB, enough for 1 M rows of a dozen features (a lab row is ~250-300 bytes of JSON).
 * The ceiling is V8's largest string (2^29 - 24 characters): the JSON body is parsed from one string.
 */
export const DEFAULT_BODY_LIMIT = 500 * 1024 * 1024;
export const MAX_BODY_LIMIT = 2 ** 29 - 1024;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  const poolSize = intVar(env, 'POOL_SIZE', availableCores(), 1, 256);
  const bodyLimit = intVar(env, 'BODY_LIMIT', DEFAULT_BODY_LIMIT, 1024, MAX_BODY_LIMIT);
  return {
    port: intVar(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    logLevel,
    poolSize,
    maxQueue: intVar(env, 'MAX_QUEUE', 8, 0, 100_000),
    bodyLimit,
    bodyBytesInFlight: intVar(env, 'MAX_BODY_BYTES_IN_FLIGHT', 2 * bodyLimit, 1024, 2 ** 40),
    keysFile: env.UPLIFT_KEYS_FILE?.trim() || './var/keys.json',
    shutdownGraceS: intVar(env, 'SHUTDOWN_GRACE_S', 60, 0, 3600),
    jobTimeoutS: intVar(env, 'JOB_TIMEOUT_S', 600, 0, 86400),
    rateLimitMax: intVar(env, 'RATE_LIMIT_MAX', 600, 0, 10_000_000),
    rateLimitWindowS: intVar(env, 'RATE_LIMIT_WINDOW_S', 60, 1, 86400),
    limits: {
      maxRows: intVar(env, 'MAX_ROWS', DEFAULT_LIMITS.maxRows, 200, 20_000_000),
      maxFeatures: intVar(env, 'MAX_FEATURES', DEFAULT_LIMITS.maxFeatures, 1, 100_000),
      maxIdLength: intVar(env, 'MAX_ID_LENGTH', DEFAULT_LIMITS.maxIdLength, 1, MAX_ID_LENGTH_CEILING),
      maxFeatureNameLength: intVar(env, 'MAX_FEATURE_NAME_LENGTH', DEFAULT_LIMITS.maxFeatureNameLength, 1, 65536),
    },
  };
}
