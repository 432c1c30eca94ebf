import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyStore, UUID_RE } from '../../src/keys/store.js';
import { tempDir, TEST_SCRYPT } from '../routes/helpers.js';

t.test('create stores only a salted hash, mode 0600; verify accepts the secret and nothing else', async (t) => {
  const file = path.join(tempDir(), 'sub', 'keys.json');
  const store = new KeyStore(file, { scrypt: TEST_SCRYPT });
  t.equal(store.activeCount(), 0, 'a missing file is an empty store');
  const a = await store.create('alpha');
  const b = await store.create('beta');
  t.match(a.customer_api_id, UUID_RE);
  t.ok(a.secret.length >= 40, 'secret has >= 240 bits');
  t.not(a.secret, b.secret);

  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(a.secret) || text.includes(b.secret), 'no secret in the file');
  const data = JSON.parse(text);
  t.equal(data.keys.length, 2);
  t.not(data.keys[0].salt, data.keys[1].salt, 'a salt per key');
  t.equal(statSync(file).mode & 0o777, 0o600, 'file mode 0600');

  t.equal(await store.verify(a.customer_api_id, a.secret), true);
  t.equal(await store.verify(b.customer_api_id, b.secret), true);
  t.equal(await store.verify(a.customer_api_id, b.secret), false, "another key's secret");
  t.equal(await store.verify(a.customer_api_id, a.secret + 'x'), false, 'secret with a suffix');
  t.equal(await store.verify('0f8fad5b-d9cb-469f-a165-70867728950e', a.secret), false, 'unknown id');
});

t.test('unknown and revoked ids still cost one hash; revoke and list', async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  const store = new KeyStore(file, { scrypt: TEST_SCRYPT });
  const a = await store.create('alpha');
  const h = store.hashesComputed;
  await store.verify('0f8fad5b-d9cb-469f-a165-70867728950e', 'whatever');
  t.equal(store.hashesComputed, h + 1, 'unknown id hashed');
  t.ok(store.revoke(a.customer_api_id));
  t.notOk(store.revoke(a.customer_api_id), 'second revoke reports false');
  t.equal(await store.verify(a.customer_api_id, a.secret), false, 'revoked key rejected');
  t.equal(store.hashesComputed, h + 2, 'revoked id hashed');
  const list = store.list();
  t.equal(list.length, 1);
  t.same(Object.keys(list[0]).sort(), ['created_at', 'customer_api_id', 'name', 'revoked_at']);
  t.ok(list[0].revoked_at);
  t.equal(store.activeCount(), 0);
});

t.test('a running store picks up keys created by another process (the CLI)', async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  const server = new KeyStore(file, { scrypt: TEST_SCRYPT, reloadIntervalMs: 0 });
  const cli = new KeyStore(file, { scrypt: TEST_SCRYPT });
  const k = await cli.create('from-cli');
  t.equal(await server.verify(k.customer_api_id, k.secret), true, 'new key seen');
  cli.revoke(k.customer_api_id);
  t.equal(await server.verify(k.customer_api_id, k.secret), false, 'revocation seen');
});

t.test('a corrupt store file is an error, not an empty store', async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  writeFileSync(file, '{nope');
  t.throws(() => new KeyStore(file), /not valid JSON/);
  writeFileSync(file, '{"keys": 3}');
  t.throws(() => new KeyStore(file), /unknown format/);
});

t.test('a verified secret is remembered (no scrypt), wrong secrets never are, a revocation forgets', async (t) => {
  const file = path.join(tempDir(), 'keys.json');
  const server = new KeyStore(file, { scrypt: TEST_SCRYPT, reloadIntervalMs: 0 });
  const cli = new KeyStore(file, { scrypt: TEST_SCRYPT });
  const k = await cli.create('memo');
  let h = server.hashesComputed;
  t.equal(await server.verify(k.customer_api_id, k.secret), true);
  t.equal(server.hashesComputed, h + 1, 'first verification: scrypt');
  t.equal(await server.verify(k.customer_api_id, k.secret), true);
  t.equal(await server.verify(k.customer_api_id.toUpperCase(), k.secret), true);
  t.equal(server.hashesComputed, h + 1, 'repeated verifications: no scrypt');
  h = server.hashesComputed;
  t.equal(await server.verify(k.customer_api_id, k.secret + 'x'), false);
  t.equal(await server.verify(k.customer_api_id, k.secret + 'x'), false);
  t.equal(server.hashesComputed, h + 2, 'wrong secrets: scrypt every time');
  cli.revoke(k.customer_api_id);
  t.equal(await server.verify(k.customer_api_id, k.secret), false, 'revoked: the memo does not outlive the key');
});
