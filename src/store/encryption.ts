// Encryption at rest for the resources whose values must never reach PostgreSQL in the clear
// (Secrets), the way kube-apiserver's EncryptionConfiguration with the aesgcm provider does
// it for etcd. Every row of such a resource, current or in the change log, holds
//   k8s:enc:aesgcm:v1:<key name>:<base64 of nonce | ciphertext | tag>
// sealed with AES-256-GCM under the first configured key, the storage key bound in as
// additional data (a row copied under another name does not decrypt). Every configured key
// decrypts, so keys rotate; rows written before encryption (plain JSON) still read, and the
// next write seals them.
//
// A sealed value cannot carry its resourceVersion: the revision is only known inside the
// write statement, and the per-process marker that stands in for it (see objects.ts) cannot
// be replaced inside ciphertext. The sealed object holds an empty resourceVersion, and
// opening a row puts back the revision of the row it came from.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';

/** Resources ("group/plural") whose values are sealed. */
export const SEALED_RESOURCES: readonly string[] = ['/secrets'];

const PREFIX = 'k8s:enc:';
const PROVIDER = 'aesgcm';
const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The key file is missing, unreadable or malformed. */
export class EncryptionConfigError extends Error {
  override name = 'EncryptionConfigError';
}

/** A stored value cannot be opened with the configured keys. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
  constructor(
    /** The storage key of the row. */
    readonly key: string,
    /** The name of the key the row was sealed with, when the row says. */
    readonly keyName: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface NamedKey {
  name: string;
  secret: Buffer;
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

export class SecretsEncryption {
  private readonly byName: Map<string, NamedKey>;
  private readonly writePrefix: string;

  constructor(
    /** The first seals every write; all of them open. */
    private readonly keys: NamedKey[],
    /** Where the keys came from, for messages. */
    private readonly source: string,
  ) {
    this.byName = new Map(keys.map((k) => [k.name, k]));
    this.writePrefix = keys[0] ? `${PREFIX}${PROVIDER}:${VERSION}:${keys[0].name}:` : '';
  }

  /** Parses a key file: one key a line, "<name> <base64 of 32 bytes>"; # starts a comment. */
  static parse(text: string, source: string): SecretsEncryption {
    const keys: NamedKey[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/#.*/, '').trim();
      if (line === '') continue;
      const where = `${source} line ${i + 1}`;
      const fields = line.split(/\s+/);
      if (fields.length !== 2) throw new EncryptionConfigError(`${where}: expected "<key name> <base64 key>"`);
      const [name, encoded] = fields as [string, string];
      if (!KEY_NAME.test(name)) {
        throw new EncryptionConfigError(`${where}: key name "${name}" must be 1-63 letters, digits, '.', '_' or '-'`);
      }
      if (keys.some((k) => k.name === name)) throw new EncryptionConfigError(`${where}: key name "${name}" is listed twice`);
      // Buffer.from skips what is not base64; a key with a typo must not shrink silently.
      if (!/^[A-Za-z0-9+/]{43}=$/.test(encoded)) {
        const length = Buffer.from(encoded, 'base64').length;
        throw new EncryptionConfigError(
          `${where}: key "${name}" must be ${KEY_BYTES} bytes (AES-256) in standard base64, 44 characters ending in "=" (this is ${encoded.length} characters, ${length} bytes)`,
        );
      }
      const secret = Buffer.from(encoded, 'base64');
      keys.push({ name, secret });
    }
    if (keys.length === 0) throw new EncryptionConfigError(`${source}: lists no key`);
    return new SecretsEncryption(keys, source);
  }

  /** Reads a key file, which only its owner may read. */
  static async load(file: string): Promise<SecretsEncryption> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new EncryptionConfigError(`cannot read the encryption key file ${file}: ${(err as Error).message}`);
    }
    return SecretsEncryption.parse(text, file);
  }

  /**
   * Reads the key file, first writing one with a new random key when it does not exist.
   * Only for a file in VirtFlow's own home: a file given by an operator must exist, since a
   * replica that made up its own key could not read what the others write.
   */
  static async loadOrCreate(file: string): Promise<SecretsEncryption> {
    const fresh = `${keyFileHeader}${newKeyLine()}\n`;
    try {
      await writeFile(file, fresh, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new EncryptionConfigError(`cannot create the encryption key file ${file}: ${(err as Error).message}`);
      }
    }
    await chmod(file, 0o600).catch(() => {});
    return SecretsEncryption.load(file);
  }

  /** The name of the key new writes are sealed with. */
  get writeKey(): string | undefined {
    return this.keys[0]?.name;
  }

  /** What every value sealed with the first key starts with ('' without keys). */
  get currentPrefix(): string {
    return this.writePrefix;
  }

  /** Whether values of this resource are sealed. */
  seals(resource: string): boolean {
    return this.keys.length > 0 && SEALED_RESOURCES.includes(resource);
  }

  /**
   * The value to store for the object text `plain` of the row `key`. `plain` carries an
   * empty resourceVersion, which opening the row restores.
   */
  seal(key: string, plain: string): string {
    const k = this.keys[0];
    if (!k) return plain;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, k.secret, nonce);
    cipher.setAAD(Buffer.from(key, 'utf8'));
    const sealed = Buffer.concat([nonce, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return this.writePrefix + sealed.toString('base64');
  }

  /** The object's JSON text, from the value of the row `key` at `revision`. */
  open(key: string, value: string, revision: number): string {
    if (!isSealed(value)) return value;
    return withRevision(this.decrypt(key, value), String(revision));
  }

  /**
   * The value of the row `key` sealed with the first key, whatever it holds now (plain, or
   * sealed with another listed key); the object inside is unchanged.
   */
  reseal(key: string, value: string): string {
    return this.seal(key, isSealed(value) ? this.decrypt(key, value) : withRevision(value, ''));
  }

  /** The sealed text: the object with an empty resourceVersion. */
  private decrypt(key: string, value: string): string {
    const [provider, version, name, payload] = splitSealed(value);
    if (provider !== PROVIDER || version !== VERSION || name === undefined || payload === undefined) {
      throw new DecryptionError(key, undefined, `cannot decrypt ${key}: it is stored in a form this VirtFlow does not know ("${PREFIX}${provider ?? ''}:${version ?? ''}")`);
    }
    const k = this.byName.get(name);
    if (!k) {
      throw new DecryptionError(
        key,
        name,
        `cannot decrypt ${key}: it was encrypted with the key "${name}", which ${this.source} does not list; every replica must be given the same keys (see docs/security.md)`,
      );
    }
    const sealed = Buffer.from(payload, 'base64');
    try {
      if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('too short');
      const decipher = createDecipheriv(ALGORITHM, k.secret, sealed.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(key, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES), undefined, 'utf8') + decipher.final('utf8');
    } catch {
      throw new DecryptionError(
        key,
        name,
        `cannot decrypt ${key}: the key "${name}" in ${this.source} does not open it (a different key under the same name, or an altered row)`,
      );
    }
  }

  /**
   * Whether a row of `resource` needs writing again although its object did not change:
   * it is plain, or sealed with a key that is no longer the first (kube-apiserver's "stale").
   */
  stale(resource: string, value: string): boolean {
    return this.seals(resource) && !value.startsWith(this.writePrefix);
  }
}

/** Stores everything as it is; still opens nothing sealed, and says so. */
export const noEncryption = new SecretsEncryption([], 'the configuration of this server (no encryption keys)');

/** The object's JSON text with its resourceVersion set (same place, same key order). */
function withRevision(text: string, revision: string): string {
  const object = JSON.parse(text) as { metadata: { resourceVersion?: string } };
  object.metadata.resourceVersion = revision;
  return JSON.stringify(object);
}

/** One error for several rows that cannot be decrypted, naming the keys they need. */
export function undecryptable(failed: DecryptionError[]): DecryptionError {
  const first = failed[0]!;
  const keys = [...new Set(failed.map((e) => e.keyName).filter((n) => n !== undefined))];
  const needs = keys.length > 0 ? ` (encrypted with ${keys.map((k) => `"${k}"`).join(', ')})` : '';
  return new DecryptionError(first.key, first.keyName, `${failed.length} stored row(s) cannot be decrypted${needs}; the first: ${first.message}`);
}

/** provider, version, key name and payload of a sealed value. */
function splitSealed(value: string): (string | undefined)[] {
  const parts: (string | undefined)[] = [];
  let rest = value.slice(PREFIX.length);
  for (let i = 0; i < 3; i++) {
    const colon = rest.indexOf(':');
    if (colon < 0) return parts;
    parts.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  parts.push(rest);
  return parts;
}

const keyFileHeader = `# VirtFlow's keys for Secrets at rest (AES-256-GCM); see docs/security.md.
# One key a line: "<name> <base64 of 32 random bytes>". The first key encrypts every write;
# every key listed decrypts. Keep this file secret, and the same on every server replica.
`;

/** A key file line with a new random key under a random name. */
export function newKeyLine(): string {
  return `key-${randomBytes(4).toString('hex')} ${randomBytes(KEY_BYTES).toString('base64')}`;
}
