import { describe, expect, it } from 'vitest';
import { keyOf, keyString, parseKey, type ObjectKey } from './keys.js';

describe('object keys', () => {
  const cases: { name: string; key: ObjectKey; text: string }[] = [
    { name: 'a namespaced key reads namespace/name', key: { namespace: 'tenant-a', name: 'vm-1' }, text: 'tenant-a/vm-1' },
    { name: 'a cluster-scoped key is the name alone', key: { name: 'host-7' }, text: 'host-7' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(keyString(c.key)).toBe(c.text);
      expect(parseKey(c.text)).toEqual(c.key);
    });
  }

  it('keys an object by its metadata and refuses one without a name', () => {
    expect(keyOf({ metadata: { namespace: 'ns', name: 'a' } })).toEqual({ namespace: 'ns', name: 'a' });
    expect(keyOf({ metadata: { name: 'a', namespace: '' } })).toEqual({ name: 'a' });
    expect(() => keyOf({ metadata: {} })).toThrow(/without metadata.name/);
  });
});
