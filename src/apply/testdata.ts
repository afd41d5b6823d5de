// Shared fixtures for this folder's tests: a CRD-like schema exercising every list and map
// kind, and a builder for objects of it.

import type { KubeObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';

export const clusterSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        region: { type: 'string' },
        nodePools: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              size: { type: 'integer' },
              flavor: { type: 'string' },
            },
          },
        },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
          items: {
            type: 'object',
            properties: {
              port: { type: 'integer' },
              protocol: { type: 'string', default: 'TCP' },
              name: { type: 'string' },
            },
          },
        },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        dnsServers: { type: 'array', items: { type: 'string' } },
        placement: {
          type: 'object',
          'x-kubernetes-map-type': 'atomic',
          properties: { zone: { type: 'string' }, rack: { type: 'string' } },
        },
        selector: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
    status: {
      type: 'object',
      properties: { phase: { type: 'string' }, readyPools: { type: 'integer' } },
    },
  },
};

export function cluster(spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  const { metadata, ...rest } = extra;
  return {
    apiVersion: 'example.com/v1',
    kind: 'Cluster',
    metadata: { name: 'c1', namespace: 'default', ...(metadata ?? {}) },
    spec,
    ...rest,
  };
}

export const T0 = '2024-01-01T00:00:00Z';
export const T1 = '2024-01-01T00:01:00Z';
export const T2 = '2024-01-01T00:02:00Z';
