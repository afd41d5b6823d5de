// The fields the built-in kinds have, for decoding their bodies as strictly as kube-apiserver's
// typed decoder does: an unknown field is refused under fieldValidation=Strict, reported
// under Warn and dropped under Ignore; a byte field that is not base64 is refused always
// (Go cannot decode it into []byte, whatever the field validation).
import { errors } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';

/** A struct's fields; a nested Fields is a struct field, a list of one is a list of structs. */
type Fields = { [name: string]: true | Fields | [Fields] };

const ownerReference: Fields = { apiVersion: true, kind: true, name: true, uid: true, controller: true, blockOwnerDeletion: true };
const managedFieldsEntry: Fields = { manager: true, operation: true, apiVersion: true, time: true, fieldsType: true, fieldsV1: true, subresource: true };

/** metav1.ObjectMeta as served since Kubernetes 1.25 (clusterName is gone). */
const objectMeta: Fields = {
  name: true,
  generateName: true,
  namespace: true,
  selfLink: true,
  uid: true,
  resourceVersion: true,
  generation: true,
  creationTimestamp: true,
  deletionTimestamp: true,
  deletionGracePeriodSeconds: true,
  labels: true,
  annotations: true,
  ownerReferences: [ownerReference],
  finalizers: true,
  managedFields: [managedFieldsEntry],
};

const objectReference: Fields = { kind: true, namespace: true, name: true, uid: true, apiVersion: true, resourceVersion: true, fieldPath: true };
const condition: Fields = { type: true, status: true, lastTransitionTime: true, reason: true, message: true };

const KINDS: Record<string, Fields> = {
  ConfigMap: { data: true, binaryData: true, immutable: true },
  // stringData is folded into data before this check (see kind-rules.ts).
  Secret: { data: true, stringData: true, type: true, immutable: true },
  Namespace: { spec: { finalizers: true }, status: { phase: true, conditions: [condition] } },
  Event: {
    involvedObject: objectReference,
    reason: true,
    message: true,
    source: { component: true, host: true },
    firstTimestamp: true,
    lastTimestamp: true,
    count: true,
    type: true,
    eventTime: true,
    series: { count: true, lastObservedTime: true },
    action: true,
    related: objectReference,
    reportingComponent: true,
    reportingInstance: true,
  },
  // Checked at the top level; their nested contents are validated by their schemas.
  Role: { rules: true },
  ClusterRole: { rules: true, aggregationRule: true },
  RoleBinding: { subjects: true, roleRef: true },
  ClusterRoleBinding: { subjects: true, roleRef: true },
  ServiceAccount: { secrets: true, imagePullSecrets: true, automountServiceAccountToken: true },
  // A simulated workload cluster's kinds (src/workload/) whose fields are not under spec.
  StorageClass: { provisioner: true, parameters: true, reclaimPolicy: true, mountOptions: true, allowVolumeExpansion: true, volumeBindingMode: true, allowedTopologies: true },
  Endpoints: { subsets: true },
  Lease: {
    spec: {
      holderIdentity: true,
      leaseDurationSeconds: true,
      acquireTime: true,
      renewTime: true,
      leaseTransitions: true,
      strategy: true,
      preferredHolder: true,
    },
  },
};

/**
 * The unknown fields of a built-in object, as kube-apiserver names them ("foo",
 * "metadata.bar", "metadata.ownerReferences[0].baz"). With `drop`, they are removed as well.
 * Kinds without a field list here (the CustomResourceDefinition) are checked at the top and
 * in metadata only.
 */
export function unknownBuiltinFields(obj: KubeObject, info: ResourceInfo, drop: boolean): string[] {
  const kindFields = KINDS[info.kind];
  const top: Fields = { apiVersion: true, kind: true, metadata: objectMeta, ...(kindFields ?? { spec: {}, status: {} }) };
  const found: string[] = [];
  walk(obj, top, '', found, drop, kindFields === undefined);
  return found.sort();
}

function walk(value: Record<string, unknown>, fields: Fields, path: string, found: string[], drop: boolean, openNested: boolean): void {
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    const field = fields[key];
    if (field === undefined) {
      found.push(here);
      if (drop) delete value[key];
      continue;
    }
    const child = value[key];
    if (field === true) continue;
    if (Array.isArray(field)) {
      if (Array.isArray(child)) child.forEach((item, i) => isPlainObject(item) && walk(item, field[0], `${here}[${i}]`, found, drop, false));
      continue;
    }
    // A kind checked only at the top (a CRD) leaves its spec and status to its own validation.
    if (openNested && Object.keys(field).length === 0) continue;
    if (isPlainObject(child)) walk(child, field, here, found, drop, false);
  }
}

/** Go's base64.StdEncoding, as encoding/json decodes []byte: padded; CR and LF are skipped. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Refuses byte fields that are not base64 (Secret.data, ConfigMap.binaryData), with the
 * BadRequest kube-apiserver answers when its decoder fails, naming the key.
 */
export function checkByteFields(obj: KubeObject, info: ResourceInfo): void {
  const field = info.kind === 'Secret' ? 'data' : info.kind === 'ConfigMap' ? 'binaryData' : undefined;
  if (!field || !isPlainObject(obj[field])) return;
  for (const [key, value] of Object.entries(obj[field] as Record<string, unknown>)) {
    if (typeof value !== 'string') continue;
    const text = value.replace(/[\r\n]/g, '');
    if (BASE64.test(text)) continue;
    throw errors.badRequest(
      `${info.kind} in version "v1" cannot be handled as a ${info.kind}: ${field}[${JSON.stringify(key)}]: illegal base64 data at input byte ${illegalByte(text)}`,
    );
  }
}

/** Where Go's decoder gives up: the first character outside the alphabet, else the short tail. */
function illegalByte(text: string): number {
  const bad = text.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = text.indexOf('=');
  if (pad >= 0 && (pad % 4 < 2 || pad < text.length - 2)) return pad;
  return text.length - (text.length % 4);
}
