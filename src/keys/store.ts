/**
 * API key store: one JSON file holding, per key, only a random salt and the scrypt hash of the secret.
 *
 * - Secrets are 32 random bytes, base64url (43 characters); ids are random UUIDs (v4).
 * - Hash: node:crypto scrypt (RFC 7914) with N=2^14, r=8, p=1, 32-byte output, 16-byte salt per key;
 *   parameters are stored with each key so they can be raised later without breaking old keys.
 * - Verification always computes one scrypt hash, also for unknown or revoked ids (against a dummy
 *   record), and compares with crypto.timingSafeEqual, so the answer time does not reveal whether an id
 *   exists.
 * - The file is written atomically (temp file + rename) with mode 0600 inside a 0700 directory.
 * - A running server notices changes made by the CLI (create / revoke) within about a second: the file's
 *   mtime is checked at most once per `reloadIntervalMs` when a credential is verified.
 * - Once a secret has been verified with scrypt, the process remembers an HMAC of it (keyed by a random
 *   per-process key, never written anywhere) so later requests with the same credential skip scrypt;
 *   the memo is dropped whenever the key file changes (e.g. a revocation). Unknown ids and wrong
 *   secrets always pay the full scrypt cost.
 */
import { createHmac, randomBytes, randomUUID, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, renameSync, mkdirSync, chmodSync, openSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keylen: number;
}

export interface KeyRecord {
  customer_api_id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  /** base64 */
  salt: string;
  /** base64 */
  hash: string;
  scrypt: ScryptParams;
}

export interface KeyFile {
  version: 1;
  keys: KeyRecord[];
}

/** What `list` shows: never the hash or salt. */
export interface KeyInfo {
  customer_api_id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1, keylen: 32 };

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Secrets we issue are base64url; anything longer than this is malformed (and never hashed). */
export const MAX_SECRET_LENGTH = 256;

function scrypt(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCb(secret, salt, params.keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export class KeyStoreError extends Error {}

function parseKeyFile(text: string, file: string): KeyFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KeyStoreError(`key store ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const d = data as Partial<KeyFile>;
  if (!d || d.version !== 1 || !Array.isArray(d.keys)) {
    throw new KeyStoreError(`key store ${file} has an unknown format (expected {"version":1,"keys":[...]})`);
  }
  return { version: 1, keys: d.keys as KeyRecord[] };
}

export class KeyStore {
  readonly file: string;
  private data: KeyFile = { version: 1, keys: [] };
  private byId = new Map<string, KeyRecord>();
  /** Identity of the file last read: every save is a rename, so a new inode means new content. */
  private mtimeMs = -1;
  private ino = -1;
  private lastCheck = 0;
  private readonly reloadIntervalMs: number;
  private readonly params: ScryptParams;
  /** id -> HMAC of the last secret verified for it (see the header). */
  private verified = new Map<string, Buffer>();
  private readonly memoKey = randomBytes(32);
  /** scrypt hashes computed by verify() (observable proof that unknown ids cost a hash too). */
  hashesComputed = 0;
  /** Hashed against when the id is unknown or revoked, so every verification costs one scrypt. */
  private readonly dummy: KeyRecord;

  constructor(file: string, opts: { reloadIntervalMs?: number; scrypt?: ScryptParams } = {}) {
    this.file = path.resolve(file);
    this.reloadIntervalMs = opts.reloadIntervalMs ?? 1000;
    this.params = opts.scrypt ?? DEFAULT_SCRYPT;
    this.dummy = {
      customer_api_id: '00000000-0000-0000-0000-000000000000',
      name: '',
      created_at: '',
      revoked_at: null,
      salt: randomBytes(16).toString('base64'),
      hash: randomBytes(this.params.keylen).toString('base64'),
      scrypt: this.params,
    };
    this.loadSync();
  }

  /** (Re)reads the file; a missing file is an empty store. */
  loadSync(): void {
    let text: string;
    try {
      const st = statSync(this.file);
      text = readFileSync(this.file, 'utf8');
      this.mtimeMs = st.mtimeMs;
      this.ino = st.ino;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.setData({ version: 1, keys: [] });
        this.mtimeMs = -1;
        this.ino = -1;
        return;
      }
      throw e;
    }
    this.setData(parseKeyFile(text, this.file));
  }

  private setData(data: KeyFile): void {
    this.data = data;
    this.verified = new Map();
    this.byId = new Map(data.keys.map((k) => [k.customer_api_id.toLowerCase(), k]));
  }

  /**
   * Re-reads the file if it changed. Synchronous on purpose: a stat is microseconds, and async fs calls
   * would queue behind scrypt hashes in libuv's thread pool under a flood of bad credentials.
   */
  private maybeReload(): void {
    const now = Date.now();
    if (now - this.lastCheck < this.reloadIntervalMs) return;
    this.lastCheck = now;
    try {
      const st = statSync(this.file);
      if (st.mtimeMs !== this.mtimeMs || st.ino !== this.ino) {
        const text = readFileSync(this.file, 'utf8');
        this.setData(parseKeyFile(text, this.file));
        this.mtimeMs = st.mtimeMs;
        this.ino = st.ino;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.setData({ version: 1, keys: [] });
        this.mtimeMs = -1;
        this.ino = -1;
      }
      // A half-written or corrupt file (should not happen: writes are atomic) keeps the last good keys.
    }
  }

  private saveSync(): void {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600); // in case of a permissive umask or an existing file
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const st = statSync(this.file);
    this.mtimeMs = st.mtimeMs;
    this.ino = st.ino;
  }

  /** Active (non-revoked) keys. */
  activeCount(): number {
    let n = 0;
    for (const k of this.data.keys) if (!k.revoked_at) n++;
    return n;
  }

  list(): KeyInfo[] {
    return this.data.keys.map((k) => ({
      customer_api_id: k.customer_api_id,
      name: k.name,
      created_at: k.created_at,
      revoked_at: k.revoked_at,
    }));
  }

  /** Creates a key; returns the only copy of the secret that will ever exist. */
  async create(name: string): Promise<{ customer_api_id: string; secret: string }> {
    this.loadSync();
    const customer_api_id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scrypt(secret, salt, this.params);
    this.data.keys.push({
      customer_api_id,
      name,
      created_at: new Date().toISOString(),
      revoked_at: null,
      salt: salt.toString('base64'),
      hash: hash.toString('base64'),
      scrypt: { ...this.params },
    });
    this.setData(this.data);
    this.saveSync();
    return { customer_api_id, secret };
  }

  /** Marks a key revoked (kept in the file for the audit trail). False if unknown or already revoked. */
  revoke(id: string): boolean {
    this.loadSync();
    const k = this.byId.get(id.toLowerCase());
    if (!k || k.revoked_at) return false;
    k.revoked_at = new Date().toISOString();
    this.saveSync();
    return true;
  }

  /**
   * True iff `id` names an active key whose secret is `secret`. Costs one scrypt whatever the outcome.
   * The caller checks the formats (UUID, secret length) first.
   */
  async verify(id: string, secret: string): Promise<boolean> {
    this.maybeReload();
    const key = id.toLowerCase();
    const found = this.byId.get(key);
    const memo = createHmac('sha256', this.memoKey).update(secret).digest();
    const known = found && !found.revoked_at ? this.verified.get(key) : undefined;
    if (known && timingSafeEqual(known, memo)) return true;
    const rec = found && !found.revoked_at ? found : this.dummy;
    const expected = Buffer.from(rec.hash, 'base64');
    let actual: Buffer;
    try {
      this.hashesComputed++;
      actual = await scrypt(secret, Buffer.from(rec.salt, 'base64'), rec.scrypt);
    } catch {
      return false;
    }
    const same = actual.length === expected.length && timingSafeEqual(actual, expected);
    const ok = same && rec !== this.dummy;
    // Remember only if the store was not reloaded meanwhile (the record must still be the current one).
    if (ok && this.byId.get(key) === rec) this.verified.set(key, memo);
    return ok;
  }
}
