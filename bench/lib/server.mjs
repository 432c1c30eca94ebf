/**
 * Bench helpers: start the compiled server (dist/src/server.js) on a free loopback port with a fresh
 * temporary key store, read its first key and its JSON request logs from stdout; POST a body; read
 * /proc/<pid>/status. Used by bench/e2e.mjs and bench/small.mjs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER = path.join(ROOT, 'dist', 'src', 'server.js');
export const UPLIFT_PATH = '/api/v1/ai/uplift_model';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server; resolves once its worker pool is ready with
 * { proc, url, id, secret, logs (reqId -> "request completed" line), stop() }.
 * `env` adds/overrides environment variables (RATE_LIMIT_MAX=0 and JOB_TIMEOUT_S=0 by default).
 */
export async function startServer(env = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uplift-bench-'));
  const port = await freePort();
  const proc = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      UPLIFT_KEYS_FILE: path.join(dir, 'keys.json'),
      RATE_LIMIT_MAX: '0',
      JOB_TIMEOUT_S: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs = new Map();
  let key = null;
  let buf = '';
  let readyResolve;
  const ready = new Promise((r) => (readyResolve = r));
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let j;
      try {
        j = JSON.parse(line);
      } catch {
        continue;
      }
      if (j.customer_api_id && j.secret) key = j;
      else if (j.msg === 'request completed' && j.reqId) logs.set(j.reqId, j);
      else if (j.msg === 'worker pool ready') readyResolve();
      else if (j.level >= 50) process.stderr.write(`server: ${line}\n`);
    }
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const failed = exited.then((c) => Promise.reject(new Error(`server exited with code ${c}`)));
  failed.catch(() => undefined);
  await Promise.race([ready, failed]);
  if (!key) throw new Error('server did not print its first key');
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    id: key.customer_api_id,
    secret: key.secret,
    logs,
    /** Waits (up to 1 s) for the log line of `reqId`. */
    async log(reqId) {
      for (let k = 0; k < 50 && !logs.has(reqId); k++) await new Promise((r) => setTimeout(r, 20));
      return logs.get(reqId);
    },
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs `body` to the scoring endpoint; resolves with { ms, status, reqId, bytes, text }. */
export function post(srv, body, { keepText = false, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      new URL(UPLIFT_PATH, srv.url),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-customer-api-id': srv.id,
          'x-secret': srv.secret,
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        let bytes = 0;
        res.on('data', (c) => {
          bytes += c.length;
          if (keepText || res.statusCode !== 200) chunks.push(c);
        });
        res.on('end', () => {
          resolve({
            ms: performance.now() - t0,
            status: res.statusCode,
            reqId: res.headers['x-request-id'],
            bytes,
            text: chunks.length ? Buffer.concat(chunks).toString('utf8') : '',
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A field of /proc/<pid>/status in bytes (e.g. VmHWM, VmRSS), or null. */
export function procStatus(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets the peak RSS (VmHWM) of `pid` (Linux: write 5 to clear_refs); false when not allowed. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** The q-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function table(headers, rows) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padStart(w[i])).join('  ');
  return [line(headers), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

/** CPU time (user + system, all threads) used so far by process `pid`, in ms; null when unreadable. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that closes the command name: state is field 3, utime 14, stime 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const CLK_TCK = 100;
