// Reads `application/vnd.kubernetes.protobuf` request bodies, which kubectl's typed commands
// (`kubectl create namespace|configmap|secret`) and client-go's typed clients send for
// built-in kinds. The body is the magic `k8s\0` followed by a runtime.Unknown whose `raw` is
// the object's own message. The result is the object a JSON client would have sent, so the
// rest of the server never knows the difference.
import protobuf from 'protobufjs';
import { authenticationV1Proto, authorizationV1Proto, rbacV1Proto, serviceAccountProto } from './auth-proto.js';
import { coordinationV1Proto, coreV1Proto, metaV1Proto, runtimeProto } from './kubernetes-proto.js';
import { appsV1Proto, corePodProto, intstrProto, labelSelectorProto, resourceProto } from './workload-proto.js';

export const KUBERNETES_PROTOBUF = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
const MAX_DEPTH = 32;

/**
 * A protobuf body VirtFlow cannot read. `code` is the HTTP status to answer with: 415 when the
 * kind is not one VirtFlow decodes from protobuf (the client should send JSON), 400 when the
 * bytes are not a well-formed Kubernetes protobuf object.
 */
export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError';
  constructor(
    message: string,
    readonly code: 400 | 415,
  ) {
    super(message);
  }

  get reason(): 'BadRequest' | 'UnsupportedMediaType' {
    return this.code === 415 ? 'UnsupportedMediaType' : 'BadRequest';
  }
}

const malformed = (message: string) => new ProtobufDecodeError(`the protobuf request body is malformed: ${message}`, 400);

/** True when a Content-Type (parameters allowed) names the Kubernetes protobuf encoding. */
export function isKubernetesProtobuf(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === KUBERNETES_PROTOBUF;
}

const root = new protobuf.Root();
for (const source of [runtimeProto, metaV1Proto, coreV1Proto, coordinationV1Proto, intstrProto, resourceProto, labelSelectorProto, corePodProto, appsV1Proto, serviceAccountProto, rbacV1Proto, authenticationV1Proto, authorizationV1Proto]) {
  protobuf.parse(source, root, { keepCase: true });
}
root.resolveAll();

const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const unknownType = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');

/** apiVersion/kind → message, for the kinds VirtFlow accepts as protobuf. */
const kinds = new Map<string, protobuf.Type>([
  ['v1/Namespace', root.lookupType('k8s.io.api.core.v1.Namespace')],
  ['v1/ConfigMap', root.lookupType('k8s.io.api.core.v1.ConfigMap')],
  ['v1/Secret', root.lookupType('k8s.io.api.core.v1.Secret')],
  ['v1/Event', root.lookupType('k8s.io.api.core.v1.Event')],
  ['coordination.k8s.io/v1/Lease', root.lookupType('k8s.io.api.coordination.v1.Lease')],
  ['v1/Pod', root.lookupType('k8s.io.api.core.v1.Pod')],
  ['v1/Service', root.lookupType('k8s.io.api.core.v1.Service')],
  ['apps/v1/Deployment', root.lookupType('k8s.io.api.apps.v1.Deployment')],
  ['v1/ServiceAccount', root.lookupType('k8s.io.api.core.v1.ServiceAccount')],
  ...['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].map((kind) => [`rbac.authorization.k8s.io/v1/${kind}`, root.lookupType(`k8s.io.api.rbac.v1.${kind}`)] as const),
  ['authentication.k8s.io/v1/TokenRequest', root.lookupType('k8s.io.api.authentication.v1.TokenRequest')],
  ['authentication.k8s.io/v1/SelfSubjectReview', root.lookupType('k8s.io.api.authentication.v1.SelfSubjectReview')],
  ['authorization.k8s.io/v1/SelfSubjectAccessReview', root.lookupType('k8s.io.api.authorization.v1.SelfSubjectAccessReview')],
  ['authorization.k8s.io/v1/SelfSubjectRulesReview', root.lookupType('k8s.io.api.authorization.v1.SelfSubjectRulesReview')],
]);
// client-go encodes DeleteOptions with the group-version of the client that sends it
// (v1, coordination.k8s.io/v1, meta.k8s.io/v1, ...): the message is the same in all of them.
const deleteOptionsType = root.lookupType(`${meta}.DeleteOptions`);

/** The object kinds (apiVersion/kind) decodeKubernetesProtobuf understands, DeleteOptions aside. */
export const protobufKinds: readonly string[] = [...kinds.keys()];

// ------------------------------------------------------------------ wire format

type Value = string | number | boolean | Uint8Array | Fields | Value[];
/** The fields of one decoded message that were present on the wire, by JSON name (or a map's entries). */
interface Fields {
  [name: string]: Value;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

function wireTypeOf(field: protobuf.FieldBase): number {
  if (field.resolvedType instanceof protobuf.Type) return WIRE_LEN;
  switch (field.type) {
    case 'string':
    case 'bytes':
      return WIRE_LEN;
    case 'int32':
    case 'int64':
    case 'bool':
      return WIRE_VARINT;
    default:
      throw new Error(`internal: unsupported protobuf field type ${field.type}`);
  }
}

function readScalar(reader: protobuf.Reader, type: string, path: string): Value {
  switch (type) {
    case 'string':
      return reader.string();
    case 'bytes':
      return reader.bytes();
    case 'bool':
      return reader.bool();
    case 'int32':
      return reader.int32();
    case 'int64': {
      const long = reader.int64() as unknown as number | { toNumber(): number; toString(): string };
      const n = typeof long === 'number' ? long : long.toNumber();
      if (!Number.isSafeInteger(n)) throw malformed(`${path}: ${String(long)} does not fit a JSON integer`);
      return n;
    }
    default:
      throw new Error(`internal: unsupported protobuf scalar type ${type}`);
  }
}

function readMessage(type: protobuf.Type, reader: protobuf.Reader, end: number, path: string, depth: number): Fields {
  if (depth > MAX_DEPTH) throw malformed(`${path}: nested too deeply`);
  const out: Fields = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    if (id === 0) throw malformed(`${path}: invalid field number 0`);
    const field = type.fieldsById[id];
    if (!field) {
      // A message declared only in part: what it does not declare would be lost, not skipped.
      if (type.options?.['(partial)'] === true) {
        throw new ProtobufDecodeError(`${path || 'object'}: field ${id} of ${type.name} is not read from protobuf by this server: send the object as application/json`, 415);
      }
      reader.skipType(wire);
      continue;
    }
    const at = path ? `${path}.${field.name}` : field.name;
    if (wire !== wireTypeOf(field)) throw malformed(`${at}: wire type ${wire} where ${wireTypeOf(field)} was expected`);
    if (field instanceof protobuf.MapField) {
      const entries = (out[field.name] ??= {}) as Fields;
      const entryEnd = reader.uint32() + reader.pos;
      if (entryEnd > end) throw malformed(`${at}: entry runs past the end of its message`);
      let key = '';
      let value: Value = field.type === 'bytes' ? new Uint8Array() : '';
      while (reader.pos < entryEnd) {
        const entryTag = reader.uint32();
        if (entryTag === ((1 << 3) | WIRE_LEN)) key = reader.string();
        else if (entryTag === ((2 << 3) | WIRE_LEN)) value = readScalar(reader, field.type, `${at}[${key}]`);
        else reader.skipType(entryTag & 7);
      }
      if (reader.pos !== entryEnd) throw malformed(`${at}: entry overruns its length`);
      entries[key] = value;
      continue;
    }
    let value: Value;
    if (field.resolvedType instanceof protobuf.Type) {
      const length = reader.uint32();
      const messageEnd = reader.pos + length;
      if (messageEnd > end) throw malformed(`${at}: message runs past the end of its parent`);
      value = readMessage(field.resolvedType, reader, messageEnd, at, depth + 1);
      if (reader.pos !== messageEnd) throw malformed(`${at}: message overruns its length`);
    } else {
      value = readScalar(reader, field.type, at);
      if (reader.pos > end) throw malformed(`${at}: value runs past the end of its message`);
    }
    if (field.repeated) ((out[field.name] ??= []) as Value[]).push(value);
    else out[field.name] = value;
  }
  if (reader.pos !== end) throw malformed(`${path || 'object'}: a field runs past the end of the message`);
  return out;
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array, path: string): Fields {
  const reader = protobuf.Reader.create(bytes);
  try {
    return readMessage(type, reader, bytes.length, path, 0);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw err;
    // protobufjs' own errors: "index out of range", "invalid wire type", ...
    throw malformed(`${path || 'object'}: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------ JSON, as Go writes it

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** metav1.Time is RFC 3339 in UTC with whole seconds; MicroTime keeps six fraction digits. */
function timeJson(fields: Fields, micro: boolean, path: string): string | undefined {
  if (fields.seconds === undefined && fields.nanos === undefined) return undefined; // the zero time
  const seconds = (fields.seconds as number | undefined) ?? 0;
  const nanos = (fields.nanos as number | undefined) ?? 0;
  if (nanos < 0 || nanos > 999_999_999) throw malformed(`${path}: nanos ${nanos} is out of range`);
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 1 || year > 9999) throw malformed(`${path}: ${seconds} seconds is not a time between years 1 and 9999`);
  const base = `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}

function isZero(value: Value): boolean {
  return value === '' || value === 0 || value === false;
}

function zeroOf(type: string): Value {
  if (type === 'string') return '';
  if (type === 'bool') return false;
  return 0;
}

function scalarJson(value: Value): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

function messageJson(type: protobuf.Type, fields: Fields, path: string): unknown {
  switch (type.fullName.slice(1)) {
    case `${meta}.Time`:
      return timeJson(fields, false, path);
    case `${meta}.MicroTime`:
      return timeJson(fields, true, path);
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return fields.type === 1 ? (fields.strVal ?? '') : (fields.intVal ?? 0);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return fields.string ?? '0';
    case `${meta}.FieldsV1`: {
      if (!(fields.Raw instanceof Uint8Array)) return undefined;
      try {
        return JSON.parse(Buffer.from(fields.Raw).toString('utf8'));
      } catch (err) {
        throw malformed(`${path}: fieldsV1 is not JSON: ${(err as Error).message}`);
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = fields[field.name];
    const at = path ? `${path}.${field.name}` : field.name;
    const go = field.options?.['(go)'] as 'pointer' | 'always' | undefined;
    if (field instanceof protobuf.MapField) {
      const entries = value as Fields | undefined;
      if (entries && Object.keys(entries).length > 0) {
        out[field.name] = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, scalarJson(v)]));
      }
    } else if (field.repeated) {
      const items = value as Value[] | undefined;
      if (!items || items.length === 0) continue;
      const itemType = field.resolvedType;
      out[field.name] = items.map((item, i) => (itemType instanceof protobuf.Type ? messageJson(itemType, item as Fields, `${at}[${i}]`) : scalarJson(item)));
    } else if (field.resolvedType instanceof protobuf.Type) {
      if (value === undefined) continue;
      const json = messageJson(field.resolvedType, value as Fields, at);
      if (json !== undefined) out[field.name] = json;
    } else if (go === 'pointer') {
      if (value !== undefined) out[field.name] = scalarJson(value);
    } else if (go === 'always') {
      out[field.name] = scalarJson(value ?? zeroOf(field.type));
    } else if (value !== undefined && !isZero(value)) {
      out[field.name] = scalarJson(value);
    }
  }
  return out;
}

// ------------------------------------------------------------------ the envelope

/**
 * Decodes a Kubernetes protobuf request body into the object's JSON form (apiVersion, kind,
 * metadata, ...). Throws a ProtobufDecodeError: code 400 for malformed bytes, 415 for a kind
 * VirtFlow does not read as protobuf.
 */
export function decodeKubernetesProtobuf(body: Buffer | Uint8Array): Record<string, unknown> {
  const bytes = body instanceof Buffer ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw malformed('it does not start with the Kubernetes protobuf prefix "k8s\\0"');
  }
  const unknown = decodeMessage(unknownType, bytes.subarray(MAGIC.length), 'envelope');
  const typeMeta = (unknown.typeMeta ?? {}) as Fields;
  const apiVersion = (typeMeta.apiVersion as string | undefined) ?? '';
  const kind = (typeMeta.kind as string | undefined) ?? '';
  if (unknown.contentEncoding !== undefined && unknown.contentEncoding !== '') {
    throw new ProtobufDecodeError(`protobuf bodies with contentEncoding "${String(unknown.contentEncoding)}" are not supported`, 415);
  }
  const innerType = (unknown.contentType as string | undefined) ?? '';
  if (innerType !== '' && !isKubernetesProtobuf(innerType)) {
    throw new ProtobufDecodeError(`protobuf envelopes carrying "${innerType}" are not supported`, 415);
  }
  if (!kind) throw malformed('the envelope names no kind (typeMeta.kind is empty)');
  const type = kind === 'DeleteOptions' ? deleteOptionsType : kinds.get(`${apiVersion}/${kind}`);
  if (!type) {
    throw new ProtobufDecodeError(
      `${apiVersion || '(no apiVersion)'}, Kind=${kind} cannot be sent as ${KUBERNETES_PROTOBUF}: send it as application/json (protobuf is accepted for ${protobufKinds.join(', ')} and DeleteOptions)`,
      415,
    );
  }
  const raw = unknown.raw instanceof Uint8Array ? unknown.raw : new Uint8Array();
  const fields = decodeMessage(type, raw, '');
  const object = messageJson(type, fields, '') as Record<string, unknown>;
  return { kind, ...(apiVersion ? { apiVersion } : {}), ...object };
}
