/**
 * Key management CLI (`npm run --silent keys -- <command>`), working on UPLIFT_KEYS_FILE
 * (default ./var/keys.json).
 *
 *   create --name NAME   prints exactly one JSON line {"customer_api_id": "...", "secret": "..."}
 *   list                 prints one JSON line per key: id, name, created_at, revoked_at (never secrets)
 *   revoke ID            revokes a key (a running server stops accepting it within about a second)
 *
 * Exit codes: 0 ok, 1 not found / store error, 2 usage error.
 */
import { pathToFileURL } from 'node:url';
import { KeyStore, UUID_RE } from './store.js';

const USAGE = `usage: npm run --silent keys -- create --name NAME | list | revoke CUSTOMER_API_ID
key store: UPLIFT_KEYS_FILE (default ./var/keys.json)`;

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, out = process.stdout, err = process.stderr): Promise<number> {
  const file = env.UPLIFT_KEYS_FILE?.trim() || './var/keys.json';
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'create') {
      let name: string | undefined;
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === '--name' && i + 1 < rest.length) name = rest[++i];
        else if (a.startsWith('--name=')) name = a.slice('--name='.length);
        else {
          err.write(`unknown argument ${JSON.stringify(a)}\n${USAGE}\n`);
          return 2;
        }
      }
      if (!name || !name.trim() || name.length > 200) {
        err.write(`create needs --name NAME (1-200 characters)\n${USAGE}\n`);
        return 2;
      }
      const store = new KeyStore(file);
      const key = await store.create(name.trim());
      out.write(JSON.stringify({ customer_api_id: key.customer_api_id, secret: key.secret }) + '\n');
      return 0;
    }
    if (cmd === 'list') {
      if (rest.length) {
        err.write(`list takes no arguments\n${USAGE}\n`);
        return 2;
      }
      const store = new KeyStore(file);
      for (const k of store.list()) out.write(JSON.stringify(k) + '\n');
      return 0;
    }
    if (cmd === 'revoke') {
      if (rest.length !== 1 || !UUID_RE.test(rest[0])) {
        err.write(`revoke needs one CUSTOMER_API_ID (a UUID)\n${USAGE}\n`);
        return 2;
      }
      const store = new KeyStore(file);
      if (!store.revoke(rest[0])) {
        err.write(`no active key ${rest[0]} in ${store.file}\n`);
        return 1;
      }
      out.write(JSON.stringify({ revoked: rest[0].toLowerCase() }) + '\n');
      return 0;
    }
    err.write(`${USAGE}\n`);
    return 2;
  } catch (e) {
    err.write(`keys: ${(e as Error).message}\n`);
    return 1;
  }
}

// Run when executed directly (node dist/src/keys/cli.js ...), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
