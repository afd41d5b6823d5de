import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../machinery/object.js';
import { Expectations, toleratesNode } from './common.js';

const node = (...taints: Record<string, string>[]): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints } });
const controlPlane = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

describe('toleratesNode', () => {
  const cases: { name: string; taints: Record<string, string>[]; tolerations?: Record<string, string>[]; want: boolean }[] = [
    { name: 'a node without taints takes any pod', taints: [], want: true },
    { name: 'a NoSchedule taint keeps a pod without tolerations off', taints: [controlPlane], want: false },
    { name: 'an Exists toleration of the key lets the pod on', taints: [controlPlane], tolerations: [{ key: controlPlane.key, operator: 'Exists' }], want: true },
    { name: 'a toleration of another effect does not', taints: [controlPlane], tolerations: [{ key: controlPlane.key, operator: 'Exists', effect: 'NoExecute' }], want: false },
    { name: 'an Equal toleration needs the same value', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], tolerations: [{ key: 'dedicated', value: 'db' }], want: false },
    { name: 'an Equal toleration with the same value lets the pod on', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }], want: true },
    { name: 'an empty key with Exists tolerates everything', taints: [controlPlane, { key: 'x', effect: 'NoExecute' }], tolerations: [{ operator: 'Exists' }], want: true },
    { name: 'a PreferNoSchedule taint does not keep a pod off', taints: [{ key: 'soft', effect: 'PreferNoSchedule' }], want: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(toleratesNode(c.tolerations ? { tolerations: c.tolerations } : {}, node(...c.taints))).toBe(c.want);
    });
  }
});

describe('Expectations', () => {
  it('counts a created pod as seen once the cache saw it deleted, so a pod evicted before its owner looked again does not hold the owner', () => {
    const e = new Expectations();
    const inCache = new Set<string>();
    e.expectCreated('rs-uid', 'default/web-a');
    // Created and deleted (a node drained) before the owner's next reconcile: never in the cache.
    expect(e.satisfied('rs-uid', (k) => inCache.has(k))).toBe(false);
    e.noteDeleted('default/web-a');
    expect(e.satisfied('rs-uid', (k) => inCache.has(k))).toBe(true);
  });

  it('waits for an expected delete until the cache no longer has the pod', () => {
    const e = new Expectations();
    const inCache = new Set(['default/web-b']);
    e.expectDeleted('rs-uid', 'default/web-b');
    expect(e.satisfied('rs-uid', (k) => inCache.has(k))).toBe(false);
    inCache.delete('default/web-b');
    expect(e.satisfied('rs-uid', (k) => inCache.has(k))).toBe(true);
  });
});
