import { describe, expect, it } from 'vitest';
import { errors, type StatusCause } from './errors.js';
import { TOTAL_ANNOTATION_SIZE_LIMIT, validateObjectMeta, type ObjectMetaOptions } from './metadata.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QNAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const cluster: ObjectMetaOptions = { namespaced: false, isCreate: true };
const namespacedCreate: ObjectMetaOptions = { namespaced: true, isCreate: true };
const namespacedUpdate: ObjectMetaOptions = { namespaced: true, isCreate: false };

describe('validateObjectMeta', () => {
  const cases: { name: string; meta: unknown; opts: ObjectMetaOptions; want: StatusCause[] }[] = [
    { name: 'a plain cluster-scoped object is valid', meta: { name: 'rack-1' }, opts: cluster, want: [] },
    { name: 'a namespaced object with its namespace is valid', meta: { name: 'vm-1', namespace: 'tenant-a' }, opts: namespacedCreate, want: [] },
    { name: 'missing metadata is required', meta: undefined, opts: cluster, want: [{ type: 'FieldValueRequired', field: 'metadata', message: 'Required value' }] },
    { name: 'metadata that is not an object is refused', meta: 'x', opts: cluster, want: [{ type: 'FieldValueTypeInvalid', field: 'metadata', message: 'Invalid value: "x": must be an object' }] },
    {
      name: 'a missing name and generateName is required',
      meta: {},
      opts: cluster,
      want: [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }],
    },
    { name: 'a generateName alone is enough on create', meta: { generateName: 'vm-' }, opts: cluster, want: [] },
    {
      name: 'a generateName alone is not enough on update',
      meta: { generateName: 'vm-', namespace: 'a' },
      opts: namespacedUpdate,
      want: [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }],
    },
    {
      name: 'an upper-case name is invalid with the subdomain message',
      meta: { name: 'VM-1' },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "VM-1": ${SUBDOMAIN_MSG}` }],
    },
    {
      name: 'an invalid generateName is reported on its own field',
      meta: { generateName: 'Web_' },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.generateName', message: `Invalid value: "Web_": ${SUBDOMAIN_MSG}` }],
    },
    {
      name: 'the path-segment rule refuses a slash in a name',
      meta: { name: 'a/b' },
      opts: { ...cluster, nameRule: 'pathSegment' },
      want: [{ type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "a/b": may not contain '/'` }],
    },
    {
      name: 'a namespaced object without a namespace is refused',
      meta: { name: 'vm-1' },
      opts: namespacedCreate,
      want: [{ type: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' }],
    },
    {
      name: 'a cluster-scoped object may not have a namespace',
      meta: { name: 'rack-1', namespace: 'a' },
      opts: cluster,
      want: [{ type: 'FieldValueForbidden', field: 'metadata.namespace', message: 'Forbidden: not allowed on this type' }],
    },
    {
      name: 'a namespace must be a DNS label',
      meta: { name: 'vm-1', namespace: 'a.b' },
      opts: namespacedCreate,
      want: [
        {
          type: 'FieldValueInvalid',
          field: 'metadata.namespace',
          message:
            "Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        },
      ],
    },
    {
      name: 'a name that is not a string is a type error',
      meta: { name: 5 },
      opts: cluster,
      want: [
        { type: 'FieldValueTypeInvalid', field: 'metadata.name', message: 'Invalid value: 5: must be a string' },
        { type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' },
      ],
    },
    {
      name: 'a bad label key is reported with the qualified-name message',
      meta: { name: 'a', labels: { 'bad key': 'x' } },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "bad key": ${QNAME_PART}` }],
    },
    {
      name: 'a label value longer than 63 characters is refused',
      meta: { name: 'a', labels: { app: 'v'.repeat(64) } },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters` }],
    },
    {
      name: 'a label value that is not a string is a type error on its key',
      meta: { name: 'a', labels: { replicas: 3 } },
      opts: cluster,
      want: [{ type: 'FieldValueTypeInvalid', field: 'metadata.labels[replicas]', message: 'Invalid value: 3: must be a string' }],
    },
    {
      name: 'labels that are a list are a type error',
      meta: { name: 'a', labels: ['x'] },
      opts: cluster,
      want: [{ type: 'FieldValueTypeInvalid', field: 'metadata.labels', message: 'Invalid value: ["x"]: must be an object of strings' }],
    },
    { name: 'annotation keys may use upper case in the prefix', meta: { name: 'a', annotations: { 'Example.com/Note': 'anything at all, even spaces' } }, opts: cluster, want: [] },
    {
      name: 'an annotation key with two slashes is refused',
      meta: { name: 'a', annotations: { 'a/b/c': 'x' } },
      opts: cluster,
      want: [
        {
          type: 'FieldValueInvalid',
          field: 'metadata.annotations',
          message: `Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
        },
      ],
    },
    {
      name: 'annotations over 256 KiB in total are too long',
      meta: { name: 'a', annotations: { a: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT) } },
      opts: cluster,
      want: [{ type: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' }],
    },
    { name: 'annotations of exactly 256 KiB are accepted', meta: { name: 'a', annotations: { a: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1) } }, opts: cluster, want: [] },
    { name: 'plain and domain-qualified finalizers are accepted', meta: { name: 'a', finalizers: ['kubernetes', 'virtflow.io/deprovision'] }, opts: cluster, want: [] },
    {
      name: 'a finalizer that is not a qualified name is refused',
      meta: { name: 'a', finalizers: ['virtflow.io/-x'] },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.finalizers', message: `Invalid value: "virtflow.io/-x": ${QNAME_PART}` }],
    },
    {
      name: 'orphan and foregroundDeletion together are refused',
      meta: { name: 'a', finalizers: ['orphan', 'foregroundDeletion'] },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.finalizers', message: 'Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set' }],
    },
    {
      name: 'finalizers that are not a list are a type error',
      meta: { name: 'a', finalizers: 'x' },
      opts: cluster,
      want: [{ type: 'FieldValueTypeInvalid', field: 'metadata.finalizers', message: 'Invalid value: "x": must be a list of strings' }],
    },
    {
      name: 'managedFields that are not a list are a type error',
      meta: { name: 'a', managedFields: { a: 'b' } },
      opts: cluster,
      want: [{ type: 'FieldValueTypeInvalid', field: 'metadata.managedFields', message: 'Invalid value: {"a":"b"}: must be a list of managed fields entries' }],
    },
    { name: 'managedFields entries are not judged here (unreadable ones are dropped later)', meta: { name: 'a', managedFields: [{ manager: 1 }] }, opts: cluster, want: [] },
    {
      name: 'a complete owner reference is valid',
      meta: { name: 'a', ownerReferences: [{ apiVersion: 'virtflow.io/v1', kind: 'Tenant', name: 't', uid: 'u-1', controller: true }] },
      opts: cluster,
      want: [],
    },
    {
      name: 'an empty owner reference names every missing member',
      meta: { name: 'a', ownerReferences: [{}] },
      opts: cluster,
      want: [
        { type: 'FieldValueInvalid', field: 'metadata.ownerReferences[0].apiVersion', message: 'Invalid value: "": version must not be empty' },
        { type: 'FieldValueInvalid', field: 'metadata.ownerReferences[0].kind', message: 'Invalid value: "": kind must not be empty' },
        { type: 'FieldValueInvalid', field: 'metadata.ownerReferences[0].name', message: 'Invalid value: "": name must not be empty' },
        { type: 'FieldValueInvalid', field: 'metadata.ownerReferences[0].uid', message: 'Invalid value: "": uid must not be empty' },
      ],
    },
    {
      name: 'an apiVersion with a group but no version is refused',
      meta: { name: 'a', ownerReferences: [{ apiVersion: 'virtflow.io/', kind: 'K', name: 'n', uid: 'u' }] },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.ownerReferences[0].apiVersion', message: 'Invalid value: "virtflow.io/": version must not be empty' }],
    },
    {
      name: 'a non-boolean controller flag is a type error',
      meta: { name: 'a', ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'n', uid: 'u', controller: 'yes' }] },
      opts: cluster,
      want: [{ type: 'FieldValueTypeInvalid', field: 'metadata.ownerReferences[0].controller', message: 'Invalid value: "yes": must be a boolean' }],
    },
    {
      name: 'a negative generation is refused',
      meta: { name: 'a', generation: -1 },
      opts: cluster,
      want: [{ type: 'FieldValueInvalid', field: 'metadata.generation', message: 'Invalid value: -1: must be greater than or equal to 0' }],
    },
  ];
  it.each(cases)('$name', ({ meta, opts, want }) => {
    expect(validateObjectMeta(meta, opts)).toEqual(want);
  });

  it('refuses two controller owner references, naming both', () => {
    const refs = [
      { apiVersion: 'v1', kind: 'Tenant', name: 'a', uid: '1', controller: true },
      { apiVersion: 'v1', kind: 'Tenant', name: 'b', uid: '2', controller: true },
    ];
    const causes = validateObjectMeta({ name: 'x', ownerReferences: refs }, cluster);
    expect(causes).toHaveLength(1);
    expect(causes[0]!.field).toBe('metadata.ownerReferences');
    expect(causes[0]!.message).toContain('Only one reference can have Controller set to true. Found "true" in references for Tenant/a and Tenant/b');
  });

  it('produces causes that errors.invalid turns into the message kubectl shows', () => {
    const causes = validateObjectMeta({}, cluster);
    expect(errors.invalid('Rack', 'virtflow.io', '', causes).message).toBe(
      'Rack.virtflow.io "" is invalid: metadata.name: Required value: name or generateName is required',
    );
  });

  it('does not let a __proto__ label key reach the prototype', () => {
    const meta = JSON.parse('{"name":"a","labels":{"__proto__":"x"}}');
    const causes = validateObjectMeta(meta, cluster);
    expect(causes.map((c) => c.field)).toEqual(['metadata.labels']);
    expect(causes[0]!.message).toContain('Invalid value: "__proto__"');
  });
});
