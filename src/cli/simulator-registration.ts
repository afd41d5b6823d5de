// What `virtflow up` registers for its built-in simulator: the Secret with the simulator's
// token (in VirtFlow's own namespace, where a credentialsSecret may live) and the
// ExternalController that names it, an https endpoint and the CA that signed it.
import type { KubeObject } from '../machinery/object.js';
import { virtflowNamespace } from '../kinds/externalcontroller.js';

export interface Registration {
  group: string;
  version: string;
  plural: string;
  object: KubeObject;
}

export function simulatorRegistration(opts: { name: string; url: string; token: string; caCert: string; service?: 'VirtualMachine' | 'K8sCluster' }): Registration[] {
  const secretName = `${opts.name}-token`;
  return [
    {
      group: '',
      version: 'v1',
      plural: 'secrets',
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, namespace: virtflowNamespace, labels: { 'virtflow.io/simulator': 'true' } },
        type: 'Opaque',
        data: { token: Buffer.from(opts.token).toString('base64') },
      } as KubeObject,
    },
    {
      group: 'virtflow.io',
      version: 'v1alpha1',
      plural: 'externalcontrollers',
      object: {
        apiVersion: 'virtflow.io/v1alpha1',
        kind: 'ExternalController',
        metadata: { name: opts.name, labels: { 'virtflow.io/simulator': 'true' } },
        spec: {
          service: opts.service ?? 'VirtualMachine',
          regions: [],
          endpoint: opts.url,
          caBundle: Buffer.from(opts.caCert).toString('base64'),
          credentialsSecret: { namespace: virtflowNamespace, name: secretName },
        },
      },
    },
  ];
}
