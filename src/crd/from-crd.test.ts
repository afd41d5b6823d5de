import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../machinery/object.js';
import { crdStatusFor, resourceInfosFromCrd } from './from-crd.js';

const schemaV1 = { type: 'object', properties: { spec: { type: 'object' } } };

function crd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'virtualmachines.virtflow.io' },
    spec: {
      group: 'virtflow.io',
      scope: 'Namespaced',
      names: { plural: 'virtualmachines', kind: 'VirtualMachine', shortNames: ['vm'], categories: ['virtflow'] },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schemaV1 },
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
          additionalPrinterColumns: [{ name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 0 }],
          selectableFields: [{ jsonPath: '.spec.runStrategy' }],
        },
        { name: 'v1alpha0', served: false, storage: false, schema: { openAPIV3Schema: schemaV1 } },
      ],
    },
  };
}

describe('resourceInfosFromCrd', () => {
  it('describes each served version with defaulted names, subresources, columns and selectable fields.', () => {
    const infos = resourceInfosFromCrd(crd());
    expect(infos).toEqual([
      {
        group: 'virtflow.io',
        version: 'v1alpha1',
        plural: 'virtualmachines',
        singular: 'virtualmachine',
        kind: 'VirtualMachine',
        listKind: 'VirtualMachineList',
        namespaced: true,
        shortNames: ['vm'],
        categories: ['virtflow'],
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        schema: schemaV1,
        subresources: { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
        printerColumns: [{ name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 0 }],
        selectableFields: ['.spec.runStrategy'],
        builtin: false,
        storage: true,
      },
    ]);
  });

  it('marks a cluster-scoped CRD as not namespaced.', () => {
    const c = crd();
    (c.spec as Record<string, unknown>).scope = 'Cluster';
    expect(resourceInfosFromCrd(c)[0]!.namespaced).toBe(false);
  });
});

describe('crdStatusFor', () => {
  const now = new Date('2026-01-10T12:00:00.123Z');

  it('reports names accepted and established, with accepted names and the storage version stored.', () => {
    expect(crdStatusFor(crd(), now)).toEqual({
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: '2026-01-10T12:00:00Z' },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: '2026-01-10T12:00:00Z' },
      ],
      acceptedNames: {
        plural: 'virtualmachines',
        singular: 'virtualmachine',
        kind: 'VirtualMachine',
        listKind: 'VirtualMachineList',
        shortNames: ['vm'],
        categories: ['virtflow'],
      },
      storedVersions: ['v1alpha1'],
    });
  });

  it('keeps earlier stored versions and the time a condition first became true.', () => {
    const c = crd();
    c.status = {
      storedVersions: ['v1alpha0'],
      conditions: [{ type: 'Established', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }],
    };
    const status = crdStatusFor(c, now) as { storedVersions: string[]; conditions: Array<{ type: string; lastTransitionTime: string }> };
    expect(status.storedVersions).toEqual(['v1alpha0', 'v1alpha1']);
    expect(status.conditions.find((x) => x.type === 'Established')!.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
  });
});
