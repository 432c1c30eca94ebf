import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../routes/helpers.js';

// The compiled CLI, exactly what `npm run --silent keys -- ...` runs (`npm test` builds first).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/src/keys/cli.js');

function run(args: string[], file: string) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, UPLIFT_KEYS_FILE: file }, encoding: 'utf8' });
}

t.test('create prints exactly one JSON line and stores only the hash', async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  const r = run(['create', '--name', 'crm-prod'], file);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.equal(lines.length, 2, 'one line plus the final newline');
  t.equal(lines[1], '');
  const key = JSON.parse(lines[0]);
  t.same(Object.keys(key), ['customer_api_id', 'secret']);
  t.match(key.customer_api_id, /^[0-9a-f-]{36}$/);
  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(key.secret), 'secret not stored');
  t.ok(text.includes(key.customer_api_id));
  t.equal(statSync(file).mode & 0o777, 0o600);

  const list = run(['list'], file);
  t.equal(list.status, 0);
  const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(rows.length, 1);
  t.equal(rows[0].name, 'crm-prod');
  t.equal(rows[0].revoked_at, null);
  t.notOk(list.stdout.includes(key.secret));

  const rev = run(['revoke', key.customer_api_id], file);
  t.equal(rev.status, 0, rev.stderr);
  t.ok(JSON.parse(run(['list'], file).stdout.trim()).revoked_at, 'revoked_at set');
  t.equal(run(['revoke', key.customer_api_id], file).status, 1, 'revoking twice fails');
});

t.test('usage errors exit 2 and print nothing on stdout', async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  for (const args of [[], ['create'], ['create', '--nam', 'x'], ['revoke', 'nope'], ['frobnicate']]) {
    const r = run(args, file);
    t.equal(r.status, 2, `${args.join(' ')} -> 2`);
    t.equal(r.stdout, '');
    t.match(r.stderr, /usage/);
  }
});

t.test('the npm script prints exactly one JSON line', { skip: process.env.UPLIFT_SKIP_NPM_TESTS ? 'disabled' : false }, async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  const out = execFileSync('npm', ['run', '--silent', 'keys', '--', 'create', '--name', 'via-npm'], {
    cwd: ROOT,
    env: { ...process.env, UPLIFT_KEYS_FILE: file },
    encoding: 'utf8',
  });
  const lines = out.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1);
  t.same(Object.keys(JSON.parse(lines[0])), ['customer_api_id', 'secret']);
});
