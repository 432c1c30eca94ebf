/**
 * SIGTERM during a job, against the real process (dist/src/server.js, as `npm start` runs it):
 * - new connections are refused and a request arriving on an open connection gets 503
 *   UPLIFT_SHUTTING_DOWN with Retry-After (no new work is accepted);
 * - the job in flight finishes (200 with every row) within the grace period;
 * - the process exits 0.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticRows, tempDir } from '../routes/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(ROOT, 'dist/src/server.js');
const URL = '/api/v1/ai/uplift_model';

t.test('SIGTERM during a job: no new work (503 / refused), the job finishes, exit 0', async (t) => {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', POOL_SIZE: '1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_S: '120', UPLIFT_KEYS_FILE: path.join(tempDir(), 'keys.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const out: string[] = [];
  const waiters: Array<[RegExp, (m: RegExpExecArray) => void]> = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      out.push(line);
      for (const w of [...waiters]) {
        const m = w[0].exec(line);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w[1](m);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => out.push(`stderr: ${d}`));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitLine = (re: RegExp) => {
    const seen = out.map((l) => re.exec(l)).find(Boolean);
    return seen ? Promise.resolve(seen) : new Promise<RegExpExecArray>((r) => waiters.push([re, r]));
  };

  const port = Number((await waitLine(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  await waitLine(/worker pool ready/);
  const key = JSON.parse(out.find((l) => l.startsWith('{"customer_api_id"'))!);
  const base = `http://127.0.0.1:${port}`;
  const auth = { 'x-customer-api-id': key.customer_api_id, 'x-secret': key.secret, 'content-type': 'application/json' };

  // A connection whose request has begun (request line only) before the signal: it is not idle, so the
  // server keeps it open, and its request completes after shutdown began.
  const late = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => late.once('connect', () => r()));
  let lateAnswer = '';
  late.on('data', (d) => (lateAnswer += d.toString()));
  const lateClosed = new Promise<void>((r) => late.on('close', () => r()));
  late.on('error', () => undefined);
  late.write(`POST ${URL} HTTP/1.1\r\nHost: x\r\n`);

  const rows = syntheticRows(20000, 12);
  const job = fetch(`${base}${URL}`, { method: 'POST', headers: auth, body: JSON.stringify({ rows }) });
  let running = 0;
  for (let i = 0; i < 1000 && running === 0; i++) {
    const r = (await (await fetch(`${base}/ready`)).json()) as { pool: { running: number } };
    running = r.pool.running;
    if (running === 0) await new Promise((res) => setTimeout(res, 20));
  }
  t.equal(running, 1, 'the job is running in the pool');

  child.kill('SIGTERM');
  await waitLine(/shutting down: finishing in-flight requests/);
  // Fresh TCP connections (fetch would reuse a pooled keep-alive one): refused once the listener has
  // closed (a few ms after the signal's log line).
  let refused = '';
  for (let i = 0; i < 200 && refused !== 'ECONNREFUSED'; i++) {
    refused = await new Promise<string>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r('connected')));
      s.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? e.message));
    });
    if (refused !== 'ECONNREFUSED') await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(refused, 'ECONNREFUSED', 'a new connection is refused');

  const small = JSON.stringify({ rows: syntheticRows(300, 1) });
  late.write(Object.entries({ ...auth, 'content-length': String(small.length) }).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + small);
  await lateClosed;
  const [head, lateBody] = lateAnswer.split('\r\n\r\n');
  t.match(head, /^HTTP\/1\.1 503/, 'a request arriving during shutdown on an open connection: 503');
  t.match(head, /retry-after: \d+/i, 'with Retry-After');
  t.match(head, /connection: close/i);
  t.equal(JSON.parse(lateBody).code, 'UPLIFT_SHUTTING_DOWN');

  let jobDone = false;
  const res = await job.then((r) => ((jobDone = true), r));
  t.ok(jobDone);
  t.equal(res.status, 200, 'the job in flight finished during the grace period');
  const body = (await res.json()) as { details: unknown[] };
  t.equal(body.details.length, rows.length, 'with every row scored');
  t.equal(await exit, 0, 'exit code 0');
  const logs = out.filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l));
  const done = logs.filter((l) => l.msg === 'request completed' && l.url === URL);
  t.same(done.map((l) => l.statusCode), [503, 200], 'the 503 refusal was answered while the job still ran (logged before its 200)');
  t.ok(logs.some((l) => l.msg === 'shutdown complete'));
  t.notOk(out.filter((l) => l.startsWith('{"level"')).join('\n').includes(key.secret), 'the secret is in no log line');
});
