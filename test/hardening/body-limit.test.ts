/**
 * BODY_LIMIT over a real socket: a Content-Length over the limit is answered 413 from the headers alone
 * (the body is never sent), a chunked body is cut off with 413 as soon as it passes the limit (the
 * request is never finished), and both connections are closed by the server instead of draining the
 * rest. An unauthenticated client with a huge Content-Length gets its 401 the same way.
 */
import t from 'tap';
import net from 'node:net';
import { makeApp } from '../routes/helpers.js';

const URL = '/api/v1/ai/uplift_model';
const LIMIT = 64 * 1024;

interface Answer {
  status: number;
  head: string;
  body: string;
  closedByServer: boolean;
}

/** Sends `head`, then `parts` one by one (never more after an answer arrives); resolves on the answer + close. */
function exchange(port: number, head: string, parts: Buffer[]): Promise<Answer & { partsSent: number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let partsSent = 0;
    let answered = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(data.slice(0, 200))}`));
    }, 15000);
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) answered = true;
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      const [h, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(h)?.[1] ?? 0), head: h, body: rest.join('\r\n\r\n'), closedByServer: true, partsSent });
    });
    sock.on('connect', async () => {
      sock.write(head);
      for (const p of parts) {
        if (answered || sock.destroyed) break;
        await new Promise((r) => setTimeout(r, 5));
        if (answered || sock.destroyed) break;
        sock.write(p);
        partsSent++;
      }
      // Never finish the body: only the server can end this exchange.
    });
  });
}

function headLines(lines: string[]): string {
  return [...lines, '', ''].join('\r\n');
}

t.test('413 before the body is read: Content-Length over BODY_LIMIT, and chunked bodies as they pass it', async (t) => {
  const { app, headers } = await makeApp({ config: { bodyLimit: LIMIT } });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  const auth = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);

  // 1 GB announced; nothing of the body is ever sent.
  let a = await exchange(port, headLines([`POST ${URL} HTTP/1.1`, 'Host: x', 'Content-Length: 1000000000', ...auth]), []);
  t.equal(a.status, 413, 'announced 1 GB: 413 from the headers alone');
  t.equal(JSON.parse(a.body).code, 'UPLIFT_BODY_TOO_LARGE');
  t.match(JSON.parse(a.body).message, new RegExp(`${LIMIT} bytes \\(BODY_LIMIT\\)`));
  t.match(a.head, /connection: close/i, 'the server closes the connection');

  // Chunked: 8 KiB chunks, 40 of them available (320 KiB), no final chunk: answered once past 64 KiB.
  const chunk = Buffer.from(`2000\r\n${'x'.repeat(0x2000)}\r\n`);
  a = await exchange(port, headLines([`POST ${URL} HTTP/1.1`, 'Host: x', 'Transfer-Encoding: chunked', ...auth]), Array.from({ length: 40 }, () => chunk));
  t.equal(a.status, 413, 'chunked over the limit: 413');
  t.equal(JSON.parse(a.body).code, 'UPLIFT_BODY_TOO_LARGE');
  t.ok(a.partsSent < 40, `answered before the client finished sending (${a.partsSent} of 40 chunks sent)`);
  t.ok(a.partsSent * 0x2000 <= LIMIT + 0x2000 * 12, 'shortly after the limit was passed');

  // Unauthenticated, 1 GB announced: 401 at once, connection closed, body never read.
  a = await exchange(port, headLines([`POST ${URL} HTTP/1.1`, 'Host: x', 'Content-Type: application/json', 'Content-Length: 1000000000']), []);
  t.equal(a.status, 401);
  t.match(a.head, /connection: close/i);

  // Under the limit, the same route still reads and parses (422: too few rows).
  const small = JSON.stringify({ rows: [] });
  a = await exchange(port, headLines([`POST ${URL} HTTP/1.1`, 'Host: x', 'Connection: close', `Content-Length: ${small.length}`, ...auth]) + small, []);
  t.equal(a.status, 422, 'a small body is read as usual');
});
