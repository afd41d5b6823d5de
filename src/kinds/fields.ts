// Field builders shared by the kinds. Each one yields a structural-schema node (a CRD may hold
// nothing else) with its Kubernetes markers, so a kind file reads as a list of its fields.

import { Type, type TSchema, type Static } from '@sinclair/typebox';

/** A DNS-1123 subdomain: what metadata.name of every VirtFlow object is. */
const objectNamePattern = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
/** A DNS-1123 label: what a namespace name is. */
const labelPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** Kubernetes quantity without sign or exponent: 64Gi, 2Ti, 500M, 1.5G, 1024. */
export const quantityPattern = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$';
/** A percent of something, 0% to 100%. */
const percentPattern = '(100|[1-9]?[0-9])%';

export function text(description: string, options: Record<string, unknown> = {}) {
  return Type.String({ description, ...options });
}

export function optionalText(description: string, options: Record<string, unknown> = {}) {
  return Type.Optional(text(description, options));
}

/** A reference to another object by its metadata.name. */
export function nameRef(description: string) {
  return Type.String({ description, pattern: objectNamePattern, maxLength: 253 });
}

/** A short lower-case identifier such as a region ("tw") or a namespace. */
export function dnsLabel(description: string) {
  return Type.String({ description, pattern: labelPattern, maxLength: 63 });
}

export const namespaceName = dnsLabel;

/** A closed set of strings; the TS type is the union of the values. */
export function stringEnum<const T extends readonly string[]>(
  values: T,
  description: string,
  defaultValue?: T[number],
) {
  const schema: Record<string, unknown> = { type: 'string', description, enum: [...values] };
  if (defaultValue !== undefined) schema.default = defaultValue;
  return Type.Unsafe<T[number]>(schema);
}

export function flag(description: string, defaultValue?: boolean) {
  return Type.Boolean(defaultValue === undefined ? { description } : { description, default: defaultValue });
}

export function count(description: string) {
  return Type.Integer({ description, minimum: 0 });
}

export function timestamp(description: string) {
  return Type.String({ description, format: 'date-time' });
}

/** Whole CPU cores. */
export function cores(description: string, options: { minimum?: number; default?: number } = {}) {
  return Type.Integer({ description, minimum: options.minimum ?? 0, ...options });
}

/**
 * A Kubernetes quantity ("64Gi"). Kubernetes types quantities as int-or-string, so a bare
 * number of bytes is accepted too; the pattern constrains the string form.
 */
export function quantity(description: string, options: Record<string, unknown> = {}) {
  return Type.Unsafe<string | number>({
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    pattern: quantityPattern,
    ...options,
  });
}

/**
 * Whole cores, or a percent string of some total ("40%"). The string form also takes digits
 * ("16") so that the pattern in a refusal shows both forms a person may write.
 */
export function coresOrPercent(description: string) {
  return Type.Unsafe<string | number>({
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    minimum: 0,
    pattern: `^([0-9]+|${percentPattern})$`,
  });
}

/** A quantity, or a percent string of some total ("40%"). */
export function quantityOrPercent(description: string) {
  return Type.Unsafe<string | number>({
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    pattern: `^(${quantityPattern.slice(1, -1)}|${percentPattern})$`,
  });
}

/** A count or a percent, as Deployment's maxSurge/maxUnavailable. */
export function intOrPercent(description: string) {
  return Type.Unsafe<string | number>({
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    pattern: `^${percentPattern}$`,
  });
}

/** Names that several writers may add to; server-side apply merges them as a set. */
export function nameSet(description: string, itemDescription = 'Name of the object.') {
  return Type.Array(nameRef(itemDescription), { description, 'x-kubernetes-list-type': 'set' });
}

/** status.maintainers of a maintained kind: who looks after it, kept by the controller. */
export function maintainersField() {
  return Type.Optional(
    nameSet(
      'Maintainers (維護者) of the object, assigned directly or through a maintainer group (MaintainerAssignment); kept by the controller, which also labels the object maintainer.virtflow.io/<maintainer>.',
      'Maintainer name.',
    ),
  );
}

export function stringSet(description: string, item: TSchema) {
  return Type.Array(item, { description, 'x-kubernetes-list-type': 'set' });
}

/**
 * A list whose items are identified by key fields: server-side apply merges items by key
 * instead of replacing the whole list. Keys must be required in the item schema.
 */
export function listMap<T extends TSchema>(item: T, keys: string[], description: string) {
  return Type.Array(item, {
    description,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': keys,
  });
}

export function stringMap(description: string) {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    additionalProperties: { type: 'string' },
  });
}

/** A Secret in a given namespace: cluster-scoped objects have no namespace of their own. */
export function secretReference(description: string) {
  return Type.Object(
    {
      namespace: namespaceName('Namespace of the Secret.'),
      name: nameRef('Name of the Secret.'),
    },
    { description },
  );
}

/** CPU, memory, storage and GPU of a host, group, quota or VM. */
export function resourceAmounts(description: string) {
  return Type.Object(
    {
      cpu: Type.Optional(cores('Whole CPU cores.')),
      memory: Type.Optional(quantity('Memory (記憶體) as a quantity, e.g. 64Gi.')),
      storage: Type.Optional(quantity('Storage (儲存空間) as a quantity, e.g. 2Ti.')),
      gpu: Type.Optional(count('Number of GPUs.')),
    },
    { description },
  );
}
export type ResourceAmounts = Static<ReturnType<typeof resourceAmounts>>;

export const conditionStatuses = ['True', 'False', 'Unknown'] as const;

/** The metav1.Condition shape. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: 'Type of condition in CamelCase, e.g. Ready, Scheduled, ReferencesResolved.',
      maxLength: 316,
    }),
    status: stringEnum(conditionStatuses, 'Status of the condition: True, False or Unknown.'),
    reason: optionalText(
      'Machine-readable CamelCase reason for the last transition, e.g. InsufficientCapacity.',
      { maxLength: 1024 },
    ),
    message: optionalText('Human-readable message with details about the last transition.', {
      maxLength: 32768,
    }),
    lastTransitionTime: Type.Optional(
      timestamp('Last time the condition changed from one status to another.'),
    ),
    observedGeneration: Type.Optional(
      count('metadata.generation the condition was set from; older than the object\'s means stale.'),
    ),
  },
  { description: 'One observation of the object\'s state.' },
);


/** Every status carries conditions and observedGeneration, as the API conventions ask. */
export function statusOf<P extends Record<string, TSchema>>(properties: P, description: string) {
  return Type.Object(
    {
      ...properties,
      conditions: Type.Optional(
        listMap(ConditionSchema, ['type'], 'Latest observations of the object\'s state, one per type.'),
      ),
      observedGeneration: Type.Optional(
        count('metadata.generation the controller last acted on.'),
      ),
    },
    { description },
  );
}
