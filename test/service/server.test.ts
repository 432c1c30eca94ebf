import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticRows, tempDir } from '../routes/helpers.js';

// The real process, as `npm start` runs it (dist/ is built by `npm test`).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(ROOT, 'dist/src/server.js');

interface Proc {
  child: ChildProcess;
  out: string[];
  port: Promise<number>;
  ready: Promise<void>;
  exit: Promise<number | null>;
}

function start(keysFile: string): Proc {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', POOL_SIZE: '1', LOG_LEVEL: 'info', UPLIFT_KEYS_FILE: keysFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  let buf = '';
  let onPort: (p: number) => void;
  let onReady: () => void;
  const port = new Promise<number>((r) => (onPort = r));
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      out.push(line);
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) onPort(Number(m[1]));
      if (line.includes('worker pool ready')) onReady();
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => out.push(`stderr: ${d}`));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, port, ready, exit };
}

t.test('npm start path: first key printed once, auth, a real job, one log line per request, SIGTERM -> exit 0', async (t) => {
  const keysFile = path.join(tempDir(), 'keys.json');
  const p = start(keysFile);
  t.teardown(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });
  const port = await p.port;
  await p.ready;
  const keyLine = p.out.find((l) => l.startsWith('{"customer_api_id"'));
  t.ok(keyLine, 'the created key is printed');
  const key = JSON.parse(keyLine!);
  const base = `http://127.0.0.1:${port}`;

  const health = await fetch(`${base}/health`);
  t.equal(health.status, 200);
  t.equal((await fetch(`${base}/ready`)).status, 200);

  const headers = { 'x-customer-api-id': key.customer_api_id, 'x-secret': key.secret, 'content-type': 'application/json' };
  const bad = await fetch(`${base}/api/v1/ai/uplift_model`, { method: 'POST', headers: { ...headers, 'x-secret': 'wrong-secret' }, body: '{}' });
  t.equal(bad.status, 401);

  // A job in flight when SIGTERM arrives still completes; then the process exits 0.
  const rows = syntheticRows(3000, 2);
  const job = fetch(`${base}/api/v1/ai/uplift_model`, { method: 'POST', headers, body: JSON.stringify({ rows }) });
  let running = 0;
  for (let i = 0; i < 500 && running === 0; i++) {
    const r = (await (await fetch(`${base}/ready`)).json()) as { pool: { running: number; completed: number } };
    running = r.pool.running + r.pool.completed;
    if (running === 0) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(running > 0, 'the job reached the pool before SIGTERM');
  p.child.kill('SIGTERM');
  const res = await job;
  t.equal(res.status, 200, 'in-flight job finished during shutdown');
  const body = (await res.json()) as { details: unknown[] };
  t.equal(body.details.length, rows.length);
  t.equal(await p.exit, 0, 'exit code 0');

  const all = p.out.join('\n');
  t.equal(all.split(key.secret).length - 1, 1, 'the secret appears exactly once (the creation line), never in a log line');
  const logs = p.out.filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l));
  const done = logs.filter((l) => l.msg === 'request completed' && l.url === '/api/v1/ai/uplift_model');
  t.equal(done.length, 2, 'one log line per uplift request');
  const ok = done.find((l) => l.statusCode === 200);
  t.ok(ok, 'the 200 request is logged');
  t.equal(ok.customer_id, key.customer_api_id, 'log line: customer id');
  t.equal(ok.rows, 3000, 'log line: rows');
  t.ok(['uplift_rf', 't_learner', 'blend'].includes(ok.model), 'log line: chosen model');
  t.type(ok.duration_ms, 'number', 'log line: duration');
  t.ok(logs.some((l) => l.msg === 'shutdown complete'));
});

t.test('a second start with the same store does not create or print a key', async (t) => {
  const keysFile = path.join(tempDir(), 'keys.json');
  const p1 = start(keysFile);
  await p1.ready;
  p1.child.kill('SIGINT');
  t.equal(await p1.exit, 0, 'SIGINT -> exit 0');
  const p2 = start(keysFile);
  t.teardown(() => {
    if (p2.child.exitCode === null) p2.child.kill('SIGKILL');
  });
  await p2.ready;
  t.notOk(p2.out.some((l) => l.includes('customer_api_id')), 'no key printed');
  p2.child.kill('SIGTERM');
  t.equal(await p2.exit, 0);
});

t.test('bad configuration exits 2 with a clear message', async (t) => {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, POOL_SIZE: 'lots' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  const code = await new Promise((r) => child.on('exit', r));
  t.equal(code, 2);
  t.match(err, /POOL_SIZE must be an integer/);
});
