// Builders for the providers' tests: VirtualMachines and ExternalControllers as the VM
// controller would hand them over, and the image context a create needs.
import { randomUUID } from 'node:crypto';
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import type { ProvisionContext } from './external-client.js';
import type { Placement } from './protocol.js';

export const ubuntu: ProvisionContext['image'] = {
  name: 'ubuntu-24.04',
  source: { url: 'https://images.example/ubuntu-24.04.qcow2' },
  format: 'qcow2',
};

export const placementTw: Placement = { baremetal: 'bm-tw-001', rack: 'rk-tw-a1', datacenter: 'dc-tw-1', region: 'tw' };

/** A placed VM with a uid, as read from the API. */
export function makeVm(overrides: { name?: string; namespace?: string; uid?: string; generation?: number; region?: string } = {}): VirtualMachine {
  const region = overrides.region ?? 'tw';
  return {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: {
      name: overrides.name ?? 'web-1',
      namespace: overrides.namespace ?? 'default',
      uid: overrides.uid ?? randomUUID(),
      generation: overrides.generation ?? 1,
    },
    spec: { specification: 'c4m16-g2', image: 'ubuntu-24.04', group: 'tw-general', runStrategy: 'Always', dataDisk: 'Delete' },
    status: {
      placement: { ...placementTw, region },
      resources: { cpu: 4, memory: '16Gi', storage: '100Gi', gpu: 0 },
    },
  };
}

export function makeExternalController(
  name: string,
  spec: Partial<ExternalController['spec']> & { endpoint?: string } = {},
): ExternalController {
  return {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'ExternalController',
    metadata: { name },
    spec: { service: 'VirtualMachine', endpoint: 'http://127.0.0.1:7480', allowInsecureHttp: true, ...spec },
  };
}
