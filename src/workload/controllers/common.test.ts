import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../machinery/object.js';
import { toleratesNode } from './common.js';

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
