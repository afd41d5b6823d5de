// What the API server knows about one served resource: enough to route a request, answer
// discovery, build OpenAPI and Table output, and validate a body. Built-in kinds and every
// CustomResourceDefinition version are described the same way.

import type { NameRule } from './names.js';
import type { KubeObject } from './object.js';

/** A JSON Schema as a CRD's openAPIV3Schema holds it (JSONSchemaProps). */
export type JSONSchemaProps = Record<string, unknown>;

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
  /**
   * A built-in kind's cell computed from the whole object, as kube-apiserver's printers do
   * (a count of keys, say), where a JSONPath cannot say it. `jsonPath` is then only named.
   */
  cell?: (obj: KubeObject) => unknown;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface ResourceInfo {
  /** "" for the core group. */
  group: string;
  version: string;
  /** Lower-case plural, the path segment: "virtualmachines". */
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** The schema of the whole object; absent for built-ins that are not schema-validated. */
  schema?: JSONSchemaProps;
  subresources: { status: boolean; scale?: ScaleSubresource };
  printerColumns: PrinterColumn[];
  /** JSON paths (".spec.x") allowed in field selectors beyond metadata.name/namespace. */
  selectableFields: string[];
  /** Built-in kinds are served by code; custom ones come from a CRD. */
  builtin: boolean;
  /** Is this the storage/preferred version of its group-kind. */
  storage: boolean;
  /** A built-in kind's defaults, set on every write as kube-apiserver's SetDefaults_ functions do. */
  applyDefaults?: (obj: KubeObject) => void;
  /** The Name cell of Table output, where kube-apiserver's printer adds to the name. */
  nameCell?: (obj: KubeObject) => string;
  /** A built-in kind that counts spec changes in metadata.generation, as apps/v1 kinds do. */
  tracksGeneration?: boolean;
  /** Why verbs outside `verbs` are refused, when there is more to say than "not allowed". */
  refusal?: string;
  /** How names of this kind are checked; DNS-1123 subdomain when absent (RBAC kinds: path segment). */
  nameRule?: NameRule;
}

export const allVerbs = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export function groupVersion(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** A kind the server serves by code, with the defaults every built-in shares. */
export function builtin(fields: Partial<ResourceInfo> & Pick<ResourceInfo, 'group' | 'version' | 'plural' | 'singular' | 'kind' | 'namespaced'>): ResourceInfo {
  return {
    listKind: `${fields.kind}List`,
    shortNames: [],
    categories: [],
    verbs: allVerbs,
    subresources: { status: false },
    printerColumns: [],
    selectableFields: [],
    builtin: true,
    storage: true,
    ...fields,
  };
}
