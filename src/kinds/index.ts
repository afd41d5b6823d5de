// Every VirtFlow kind, and the CustomResourceDefinition each one is served from.

import type { JSONSchemaProps } from '../machinery/resource.js';
import type { KubeObject } from '../machinery/object.js';
import { plainSchema, type KindDefinition } from './define.js';
import { datacenterKind } from './datacenter.js';
import { rackKind } from './rack.js';
import { zoneKind } from './zone.js';
import { baremetalGroupKind } from './baremetalgroup.js';
import { baremetalKind } from './baremetal.js';
import { tenantKind } from './tenant.js';
import { tenantQuotaKind } from './tenantquota.js';
import { virtualMachineSpecificationKind } from './virtualmachinespecification.js';
import { virtualMachineImageKind } from './virtualmachineimage.js';
import { virtualMachineKind } from './virtualmachine.js';
import { k8sClusterKind } from './k8scluster.js';
import { k8sNodePoolKind } from './k8snodepool.js';
import { serviceMeshKind } from './servicemesh.js';
import { maintainerKind } from './maintainer.js';
import { maintainerGroupKind } from './maintainergroup.js';
import { maintainerAssignmentKind } from './maintainerassignment.js';
import { externalControllerKind } from './externalcontroller.js';

export * from './define.js';
export { ConditionSchema, conditionStatuses, quantityPattern } from './fields.js';
export * from './datacenter.js';
export * from './rack.js';
export * from './zone.js';
export * from './baremetalgroup.js';
export * from './baremetal.js';
export * from './tenant.js';
export * from './tenantquota.js';
export * from './virtualmachinespecification.js';
export * from './virtualmachineimage.js';
export * from './virtualmachine.js';
export * from './k8scluster.js';
export * from './k8snodepool.js';
export * from './servicemesh.js';
export * from './maintainer.js';
export * from './maintainergroup.js';
export * from './maintainerassignment.js';
export * from './externalcontroller.js';

/** In dependency order, so that applying them in this order meets references first. */
export const allKinds: KindDefinition[] = [
  datacenterKind,
  rackKind,
  zoneKind,
  baremetalGroupKind,
  baremetalKind,
  tenantKind,
  tenantQuotaKind,
  virtualMachineSpecificationKind,
  virtualMachineImageKind,
  serviceMeshKind,
  k8sClusterKind,
  k8sNodePoolKind,
  virtualMachineKind,
  maintainerKind,
  maintainerGroupKind,
  maintainerAssignmentKind,
  externalControllerKind,
];

export function kindDefinition(kind: string): KindDefinition | undefined {
  return allKinds.find((def) => def.kind === kind);
}

/** A CustomResourceDefinition as the apiextensions.k8s.io/v1 API holds it. */
export interface CustomResourceDefinition extends KubeObject {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced' | 'Cluster';
    versions: CustomResourceDefinitionVersion[];
  };
}

export interface CustomResourceDefinitionVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: JSONSchemaProps };
  subresources: {
    status: Record<string, never>;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
  additionalPrinterColumns: KindDefinition['printerColumns'];
  selectableFields?: { jsonPath: string }[];
}

/**
 * The schema of a whole object. A spec with required fields is itself required (otherwise an
 * object without spec would skip those checks); a spec without any defaults to {} so its
 * field defaults still apply.
 */
export function openApiSchemaFor(def: KindDefinition): JSONSchemaProps {
  const spec = plainSchema(def.spec);
  const specHasRequired = Array.isArray(spec.required) && spec.required.length > 0;
  if (!specHasRequired && spec.default === undefined) spec.default = {};
  const schema: JSONSchemaProps = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents. In CamelCase.',
      },
      metadata: { type: 'object' },
      spec,
      status: plainSchema(def.status),
    },
  };
  if (specHasRequired) schema.required = ['spec'];
  return schema;
}

export function crdFor(def: KindDefinition): CustomResourceDefinition {
  const version: CustomResourceDefinitionVersion = {
    name: def.version,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: openApiSchemaFor(def) },
    subresources: def.scale ? { status: {}, scale: { ...def.scale } } : { status: {} },
    additionalPrinterColumns: def.printerColumns.map((column) => ({ ...column })),
  };
  if (def.selectableFields.length > 0) {
    version.selectableFields = def.selectableFields.map((jsonPath) => ({ jsonPath }));
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${def.group}`,
      labels: { 'app.kubernetes.io/part-of': 'virtflow' },
    },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [...def.categories],
      },
      scope: def.scope,
      versions: [version],
    },
  };
}

export function allCrds(): CustomResourceDefinition[] {
  return allKinds.map(crdFor);
}
