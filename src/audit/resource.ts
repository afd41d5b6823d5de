// The audit trail as an API kind: AuditEvent in audit.virtflow.io/v1alpha1, served by code
// from the audit_events table (src/audit/serve.ts), read-only. Its shape follows
// kube-apiserver's audit.k8s.io/v1 Event at the Metadata level: who, which verb, on which
// object, with what answer; never a request or response body, so no Secret's content.
import type { KubeObject } from '../machinery/object.js';
import { builtin, type JSONSchemaProps, type ResourceInfo } from '../machinery/resource.js';
import { s } from '../crd/schema-builders.js';

export const AUDIT_GROUP = 'audit.virtflow.io';
export const AUDIT_VERSION = 'v1alpha1';

/**
 * Labels every AuditEvent carries so that a label selector can ask for ranges (`>` and `<`
 * compare integers), which field selectors cannot: when it happened, in seconds since the
 * epoch, and the HTTP code of the answer.
 */
export const AUDIT_LABELS = {
  time: `${AUDIT_GROUP}/time`,
  code: `${AUDIT_GROUP}/code`,
} as const;

/** One audited request, as the API serves it. */
export interface AuditEvent extends KubeObject {
  level: 'Metadata';
  stage: 'ResponseComplete';
  verb: string;
  user: { username: string };
  userAgent?: string;
  objectRef: { apiGroup?: string; resource: string; subresource?: string; namespace?: string; name?: string };
  responseStatus: { code: number };
  /** When the request was recorded (metav1.MicroTime). */
  stageTimestamp: string;
}

/** A row of audit_events, as the reader selects it (AUDIT_ROW_COLUMNS). */
export interface AuditRow {
  id: string;
  /** metav1.MicroTime, formatted by PostgreSQL, which keeps microseconds. */
  stage_timestamp: string;
  /** Whole seconds since the epoch. */
  unix_time: string;
  username: string;
  verb: string;
  api_group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  code: number;
  user_agent: string;
}

export const AUDIT_ROW_COLUMNS = `id::text AS id,
  to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS stage_timestamp,
  floor(extract(epoch FROM time))::bigint::text AS unix_time,
  username, verb, api_group, resource, subresource, namespace, name, code, user_agent`;

export function auditEventOf(row: AuditRow): AuditEvent {
  const objectRef: AuditEvent['objectRef'] = { resource: row.resource };
  if (row.api_group) objectRef.apiGroup = row.api_group;
  if (row.subresource) objectRef.subresource = row.subresource;
  if (row.namespace) objectRef.namespace = row.namespace;
  if (row.name) objectRef.name = row.name;
  return {
    apiVersion: `${AUDIT_GROUP}/${AUDIT_VERSION}`,
    kind: 'AuditEvent',
    metadata: {
      name: row.id,
      ...(row.namespace ? { namespace: row.namespace } : {}),
      // An event never changes: its id is its version.
      resourceVersion: row.id,
      // metav1.Time: the same instant to the second.
      creationTimestamp: `${row.stage_timestamp.slice(0, 19)}Z`,
      labels: { [AUDIT_LABELS.time]: row.unix_time, [AUDIT_LABELS.code]: String(row.code) },
    },
    level: 'Metadata',
    stage: 'ResponseComplete',
    verb: row.verb,
    user: { username: row.username },
    ...(row.user_agent ? { userAgent: row.user_agent } : {}),
    objectRef,
    responseStatus: { code: row.code },
    stageTimestamp: row.stage_timestamp,
  };
}

/**
 * The field selectors AuditEvents answer, each with its column (metadata.namespace and
 * objectRef.namespace are the same thing: an event lives in the namespace it was about).
 */
export const AUDIT_FIELD_COLUMNS: Record<string, string> = {
  'metadata.name': 'id',
  'metadata.namespace': 'namespace',
  'user.username': 'username',
  verb: 'verb',
  'objectRef.apiGroup': 'api_group',
  'objectRef.resource': 'resource',
  'objectRef.subresource': 'subresource',
  'objectRef.namespace': 'namespace',
  'objectRef.name': 'name',
  'responseStatus.code': 'code',
  userAgent: 'user_agent',
};

/** "virtualmachines.virtflow.io/status", as a person names a resource. */
function resourceCell(obj: KubeObject): string {
  const ref = (obj as AuditEvent).objectRef;
  if (!ref) return '';
  return `${ref.resource}${ref.apiGroup ? `.${ref.apiGroup}` : ''}${ref.subresource ? `/${ref.subresource}` : ''}`;
}

const objectRefSchema = s.obj('ObjectRef is the object the request was about.', {
  apiGroup: s.str('The API group of the resource; empty for the core group.'),
  resource: s.str('The resource (plural) of the request.'),
  subresource: s.str('The subresource of the request, if any (status, scale, log, token).'),
  namespace: s.str('The namespace of the request; empty for cluster-scoped requests and lists across all namespaces.'),
  name: s.str('The name of the object; empty for lists and for creates without one.'),
});

const auditEventSchema: JSONSchemaProps = s.obj(
  'AuditEvent is one request to the API server as the audit trail recorded it (at the Metadata level: no request or response bodies). Read-only.',
  {
    apiVersion: s.str('APIVersion defines the versioned schema of this representation of an object.'),
    kind: s.str('Kind is a string value representing the REST resource this object represents.'),
    metadata: { type: 'object' },
    level: s.str('The level the event was recorded at: always Metadata.'),
    stage: s.str('The stage the event was recorded at: always ResponseComplete.'),
    verb: s.str('The Kubernetes verb of the request: get, list, watch, create, update, patch, delete, deletecollection.'),
    user: s.obj('The authenticated user who made the request.', { username: s.str('The name of the user.') }),
    userAgent: s.str("The client's User-Agent header."),
    objectRef: objectRefSchema,
    responseStatus: s.obj('The answer the request got.', { code: s.int('The HTTP status code.') }),
    stageTimestamp: s.time('When the request was recorded (RFC 3339 with microseconds).'),
  },
);

export const auditEventsResource: ResourceInfo = builtin({
  group: AUDIT_GROUP,
  version: AUDIT_VERSION,
  plural: 'auditevents',
  singular: 'auditevent',
  kind: 'AuditEvent',
  namespaced: true,
  verbs: ['get', 'list'],
  refusal: 'the audit trail is read-only: it is written by the API server, for every request, and by nobody else',
  schema: auditEventSchema,
  printerColumns: [
    { name: 'Time', type: 'string', format: 'date-time', jsonPath: '.metadata.creationTimestamp', description: 'When the request was recorded.' },
    { name: 'User', type: 'string', jsonPath: '.user.username', description: 'Who made the request.' },
    { name: 'Verb', type: 'string', jsonPath: '.verb', description: 'The verb of the request.' },
    { name: 'Resource', type: 'string', jsonPath: '.objectRef.resource', description: 'The resource, its group and subresource.', cell: resourceCell },
    { name: 'Object', type: 'string', jsonPath: '.objectRef.name', description: 'The name of the object, if the request named one.' },
    { name: 'Code', type: 'integer', jsonPath: '.responseStatus.code', description: 'The HTTP status code of the answer.' },
    { name: 'User-Agent', type: 'string', jsonPath: '.userAgent', description: "The client's User-Agent.", priority: 1 },
  ],
  selectableFields: Object.keys(AUDIT_FIELD_COLUMNS)
    .filter((field) => !field.startsWith('metadata.'))
    .map((field) => `.${field}`),
});
