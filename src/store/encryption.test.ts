import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecryptionError, EncryptionConfigError, SecretsEncryption, newKeyLine } from './encryption.js';

const key = (name: string, byte: number) => `${name} ${Buffer.alloc(32, byte).toString('base64')}`;
const secretText = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', resourceVersion: '' }, data: { p: 'c2VjcmV0' } });

describe('SecretsEncryption', () => {
  it('seals a Secret so that neither its text nor its data shows, and opens it with the row revision', () => {
    const enc = SecretsEncryption.parse(key('k1', 1), 'test');
    const sealed = enc.seal('/secrets/ns/s', secretText);
    expect(sealed.startsWith('k8s:enc:aesgcm:v1:k1:')).toBe(true);
    expect(sealed).not.toContain('c2VjcmV0');
    expect(sealed).not.toContain('Secret');
    const opened = JSON.parse(enc.open('/secrets/ns/s', sealed, 42));
    expect(opened).toEqual({ ...JSON.parse(secretText), metadata: { name: 's', resourceVersion: '42' } });
  });

  it('uses a fresh nonce for every write', () => {
    const enc = SecretsEncryption.parse(key('k1', 1), 'test');
    expect(enc.seal('/secrets/ns/s', secretText)).not.toBe(enc.seal('/secrets/ns/s', secretText));
  });

  it('seals only Secrets, and reads plain rows as they are', () => {
    const enc = SecretsEncryption.parse(key('k1', 1), 'test');
    expect(enc.seals('/secrets')).toBe(true);
    expect(enc.seals('/configmaps')).toBe(false);
    expect(enc.open('/secrets/ns/s', '{"kind":"Secret"}', 3)).toBe('{"kind":"Secret"}');
  });

  it('refuses a row moved to another key, naming the row and the key', () => {
    const enc = SecretsEncryption.parse(key('k1', 1), 'test');
    const sealed = enc.seal('/secrets/ns/a', secretText);
    expect(() => enc.open('/secrets/ns/b', sealed, 1)).toThrow(DecryptionError);
    expect(() => enc.open('/secrets/ns/b', sealed, 1)).toThrow(/cannot decrypt \/secrets\/ns\/b: the key "k1" in test does not open it/);
  });

  it('refuses a row sealed with a key it does not list, and one altered', () => {
    const old = SecretsEncryption.parse(key('old', 1), 'test');
    const sealed = old.seal('/secrets/ns/s', secretText);
    const other = SecretsEncryption.parse(key('new', 2), 'keys.txt');
    expect(() => other.open('/secrets/ns/s', sealed, 1)).toThrow(/encrypted with the key "old", which keys.txt does not list/);
    const sameNameOtherKey = SecretsEncryption.parse(key('old', 3), 'keys.txt');
    expect(() => sameNameOtherKey.open('/secrets/ns/s', sealed, 1)).toThrow(/does not open it/);
    expect(() => old.open('/secrets/ns/s', 'k8s:enc:aesgcm:v1:old:AAAA', 1)).toThrow(DecryptionError);
    expect(() => old.open('/secrets/ns/s', 'k8s:enc:kms:v2:x:AAAA', 1)).toThrow(/a form this VirtFlow does not know/);
  });

  it('rotates: the first key seals, every key opens, and rows of an older key are stale', () => {
    const before = SecretsEncryption.parse(key('k1', 1), 'test');
    const old = before.seal('/secrets/ns/s', secretText);
    const rotated = SecretsEncryption.parse(`${key('k2', 2)}\n${key('k1', 1)}`, 'test');
    expect(JSON.parse(rotated.open('/secrets/ns/s', old, 7)).data).toEqual({ p: 'c2VjcmV0' });
    expect(rotated.stale('/secrets', old)).toBe(true);
    expect(rotated.stale('/secrets', secretText)).toBe(true);
    const fresh = rotated.seal('/secrets/ns/s', secretText);
    expect(fresh.startsWith('k8s:enc:aesgcm:v1:k2:')).toBe(true);
    expect(rotated.stale('/secrets', fresh)).toBe(false);
    expect(rotated.stale('/configmaps', secretText)).toBe(false);
  });

  it.each([
    ['a line with one field', 'k1', /line 1: expected "<key name> <base64 key>"/],
    ['a key of 16 bytes', `k1 ${Buffer.alloc(16).toString('base64')}`, /line 1: key "k1" must be 32 bytes \(AES-256\) in standard base64, 44 characters ending in "=" \(this is 24 characters, 16 bytes\)/],
    ['a key with a character that is not base64', `k1 ${Buffer.alloc(32).toString('base64').replace('A', '*')}`, /must be 32 bytes/],
    ['a key without its padding', `k1 ${Buffer.alloc(32).toString('base64').slice(0, -1)}`, /this is 43 characters, 32 bytes/],
    ['a name with a colon', `a:b ${Buffer.alloc(32).toString('base64')}`, /key name "a:b" must be/],
    ['a name listed twice', `${key('k1', 1)}\n${key('k1', 2)}`, /line 2: key name "k1" is listed twice/],
    ['no key at all', '# nothing\n\n', /lists no key/],
  ])('refuses a key file with %s', (_what, text, message) => {
    expect(() => SecretsEncryption.parse(text, 'keys.txt')).toThrow(EncryptionConfigError);
    expect(() => SecretsEncryption.parse(text, 'keys.txt')).toThrow(message);
  });

  it('creates its key file readable by its owner only, and keeps it on later starts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-keys-'));
    const file = path.join(dir, 'encryption-keys');
    const first = await SecretsEncryption.loadOrCreate(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    const again = await SecretsEncryption.loadOrCreate(file);
    expect(again.writeKey).toBe(first.writeKey);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('says clearly when a given key file is missing', async () => {
    await expect(SecretsEncryption.load('/nonexistent/keys')).rejects.toThrow(/cannot read the encryption key file \/nonexistent\/keys/);
  });

  it('writes key lines it can read back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-keys-'));
    const file = path.join(dir, 'k');
    await writeFile(file, `${newKeyLine()}\n${newKeyLine()}\n`);
    const enc = await SecretsEncryption.load(file);
    expect(enc.writeKey).toMatch(/^key-[0-9a-f]{8}$/);
  });
});
