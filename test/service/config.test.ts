import t from 'tap';
import { availableCores, DEFAULT_BODY_LIMIT, loadConfig, MAX_BODY_LIMIT } from '../../src/config.js';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.same(c, {
    port: 3000,
    host: '127.0.0.1',
    logLevel: 'info',
    poolSize: availableCores(),
    maxQueue: 8,
    bodyLimit: DEFAULT_BODY_LIMIT,
    bodyBytesInFlight: 2 * DEFAULT_BODY_LIMIT,
    keysFile: './var/keys.json',
    shutdownGraceS: 60,
    jobTimeoutS: 600,
    rateLimitMax: 600,
    rateLimitWindowS: 60,
    limits: { maxRows: 1_000_000, maxFeatures: 1000, maxIdLength: 1024, maxFeatureNameLength: 256 },
  });
  t.ok(DEFAULT_BODY_LIMIT >= 1_000_000 * 280, 'default body limit fits 1 M lab rows (~280 bytes each)');
  t.ok(DEFAULT_BODY_LIMIT <= MAX_BODY_LIMIT, 'and stays under the largest V8 string');
});

t.test('every variable is read', async (t) => {
  const c = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    LOG_LEVEL: 'debug',
    POOL_SIZE: '3',
    MAX_QUEUE: '0',
    BODY_LIMIT: '1048576',
    MAX_BODY_BYTES_IN_FLIGHT: '3000000',
    UPLIFT_KEYS_FILE: '/data/keys.json',
    SHUTDOWN_GRACE_S: '5',
    JOB_TIMEOUT_S: '0',
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_WINDOW_S: '1',
    MAX_ROWS: '5000',
    MAX_FEATURES: '20',
    MAX_ID_LENGTH: '64',
    MAX_FEATURE_NAME_LENGTH: '32',
  });
  t.same(c, {
    port: 8080,
    host: '0.0.0.0',
    logLevel: 'debug',
    poolSize: 3,
    maxQueue: 0,
    bodyLimit: 1048576,
    bodyBytesInFlight: 3000000,
    keysFile: '/data/keys.json',
    shutdownGraceS: 5,
    jobTimeoutS: 0,
    rateLimitMax: 0,
    rateLimitWindowS: 1,
    limits: { maxRows: 5000, maxFeatures: 20, maxIdLength: 64, maxFeatureNameLength: 32 },
  });
});

t.test('bad values are rejected with the variable named', async (t) => {
  t.throws(() => loadConfig({ PORT: 'http' }), /PORT must be an integer/);
  t.throws(() => loadConfig({ PORT: '70000' }), /PORT must be between/);
  t.throws(() => loadConfig({ POOL_SIZE: '0' }), /POOL_SIZE must be between 1/);
  t.throws(() => loadConfig({ POOL_SIZE: '1.5' }), /POOL_SIZE must be an integer/);
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL must be one of/);
  t.throws(() => loadConfig({ BODY_LIMIT: String(2 ** 30) }), /BODY_LIMIT must be between/);
  t.throws(() => loadConfig({ MAX_QUEUE: '-1' }), /MAX_QUEUE must be an integer/);
  t.throws(() => loadConfig({ MAX_ROWS: '100' }), /MAX_ROWS must be between 200/);
  t.throws(() => loadConfig({ MAX_ID_LENGTH: '100000' }), /MAX_ID_LENGTH must be between 1 and 65536/);
  t.throws(() => loadConfig({ MAX_FEATURES: '0' }), /MAX_FEATURES must be between 1/);
});
