import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf, isKubernetesProtobuf, ProtobufDecodeError } from './decode.js';
import { json, startStubServer, type StubServer } from './test-kubectl.js';

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata');
const fixture = (name: string) => readFileSync(path.join(testdata, name));

// ---------------------------------------------------------------- an independent wire writer
// Bodies are built here straight from the field numbers of the upstream generated.proto files,
// without the definitions decode.ts uses, so a wrong number there cannot hide itself.

type WireValue = string | number | boolean | Uint8Array;

/** A message from [field number, value] pairs: numbers and booleans as varints, the rest length-delimited. */
function m(...fields: Array<[number, WireValue]>): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [id, value] of fields) {
    if (typeof value === 'number') w.uint32(id << 3).int64(value);
    else if (typeof value === 'boolean') w.uint32(id << 3).bool(value);
    else if (typeof value === 'string') w.uint32((id << 3) | 2).string(value);
    else w.uint32((id << 3) | 2).bytes(value);
  }
  return w.finish();
}

/** A map<string, V> entry. */
const entry = (id: number, key: string, value: string | Uint8Array): [number, Uint8Array] => [id, m([1, key], [2, value])];

/** `k8s\0` + runtime.Unknown{typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4}. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra: Array<[number, WireValue]> = [[3, ''], [4, '']]): Buffer {
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), m([1, m([1, apiVersion], [2, kind])], [2, raw], ...extra)]);
}

function decodeError(body: Buffer): ProtobufDecodeError {
  try {
    decodeKubernetesProtobuf(body);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtobufDecodeError);
    return err as ProtobufDecodeError;
  }
  throw new Error('expected decodeKubernetesProtobuf to throw');
}

describe('isKubernetesProtobuf', () => {
  it('recognises the Kubernetes protobuf media type, with or without parameters', () => {
    expect(isKubernetesProtobuf('application/vnd.kubernetes.protobuf')).toBe(true);
    expect(isKubernetesProtobuf('Application/VND.Kubernetes.Protobuf; charset=binary')).toBe(true);
    expect(isKubernetesProtobuf('application/json')).toBe(false);
    expect(isKubernetesProtobuf('application/vnd.kubernetes.protobuf+json')).toBe(false);
    expect(isKubernetesProtobuf('application/cbor')).toBe(false);
    expect(isKubernetesProtobuf('')).toBe(false);
  });
});

describe('decodeKubernetesProtobuf: bodies captured from kubectl 1.32', () => {
  it('kubectl create namespace: kubectl fills every non-pointer field, the JSON omits the empty ones', () => {
    expect(decodeKubernetesProtobuf(fixture('kubectl-create-namespace.pb'))).toEqual({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'typed' },
      spec: {},
      status: {},
    });
  });

  it('kubectl create namespace --save-config: annotations', () => {
    const ns = decodeKubernetesProtobuf(fixture('kubectl-create-namespace-save-config.pb'));
    expect(ns).toEqual({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name: 'saved',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"saved","creationTimestamp":null},"spec":{},"status":{}}\n',
        },
      },
      spec: {},
      status: {},
    });
  });

  it('kubectl create configmap: UTF-8 data and base64 binaryData', () => {
    expect(decodeKubernetesProtobuf(fixture('kubectl-create-configmap.pb'))).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'cfg' },
      data: { a: 'b', greeting: 'héllo wörld' },
      binaryData: { bin: readFileSync(path.join(testdata, 'binary.dat')).toString('base64') },
    });
  });

  it('kubectl create secret generic: data as base64, type, namespace', () => {
    expect(decodeKubernetesProtobuf(fixture('kubectl-create-secret-generic.pb'))).toEqual({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'sec' },
      data: { password: Buffer.from('hunter2').toString('base64'), user: Buffer.from('admin').toString('base64') },
      type: 'Opaque',
    });
    expect(decodeKubernetesProtobuf(fixture('kubectl-create-secret-from-file.pb'))).toEqual({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'sec2', namespace: 'other' },
      data: { bin: readFileSync(path.join(testdata, 'binary.dat')).toString('base64') },
    });
  });

  it('accepts a Uint8Array as well as a Buffer', () => {
    const bytes = new Uint8Array(fixture('kubectl-create-namespace.pb'));
    expect(decodeKubernetesProtobuf(bytes)).toMatchObject({ kind: 'Namespace', metadata: { name: 'typed' } });
  });
});

describe('decodeKubernetesProtobuf: what kubectl sends now equals the JSON it would send', () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStubServer((req) => {
      const url = new URL(req.url, 'http://stub');
      const kind = { namespaces: 'Namespace', configmaps: 'ConfigMap', secrets: 'Secret' }[url.pathname.split('/').pop() ?? ''];
      if (req.method === 'POST' && kind) return json(201, { kind, apiVersion: 'v1', metadata: { name: 'created', uid: 'u', resourceVersion: '1' } });
      return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
  });
  afterAll(() => stub.close());

  const cases: Array<{ name: string; args: string[]; path: string }> = [
    { name: 'create namespace', args: ['create', 'namespace', 'live-ns', '--save-config'], path: '/api/v1/namespaces' },
    {
      name: 'create configmap',
      args: ['create', 'configmap', 'live-cm', '--from-literal=k=v', '--from-literal=empty=', `--from-file=bin=${path.join(testdata, 'binary.dat')}`],
      path: '/api/v1/namespaces/default/configmaps',
    },
    {
      name: 'create secret generic',
      args: ['create', 'secret', 'generic', 'live-secret', '-n', 'team-a', '--from-literal=token=s3cr3t', '--type=example.com/token'],
      path: '/api/v1/namespaces/team-a/secrets',
    },
  ];

  for (const c of cases) {
    it(`kubectl ${c.name}`, async () => {
      const asJson = await stub.kubectl([...c.args, '--dry-run=client', '-o', 'json']);
      expect(asJson.stderr).toBe('');
      const expected = JSON.parse(asJson.stdout) as { metadata: Record<string, unknown> };
      // kubectl 1.32 writes the zero creationTimestamp as null; it means "unset", as leaving it out does.
      expect(expected.metadata.creationTimestamp).toBeNull();
      delete expected.metadata.creationTimestamp;

      const before = stub.requests.length;
      const created = await stub.kubectl(c.args);
      expect(created.stderr).toBe('');
      const post = stub.requests.slice(before).find((r) => r.method === 'POST');
      expect(post?.url.split('?')[0]).toBe(c.path);
      expect(post?.headers['content-type']).toBe('application/vnd.kubernetes.protobuf');
      expect(isKubernetesProtobuf(post!.headers['content-type']!)).toBe(true);
      expect(decodeKubernetesProtobuf(post!.body)).toEqual(expected);
    });
  }
});

describe('decodeKubernetesProtobuf: ObjectMeta', () => {
  const t = 1_700_000_000; // 2023-11-14T22:13:20Z
  const meta = m(
    [1, ''],
    [2, 'cm-'],
    [3, 'default'],
    [4, ''],
    [5, '0d6c1a43-5a3c-4a51-9b6c-2f1d3e4a5b6c'],
    [6, '42'],
    [7, 3],
    [8, m([1, t])],
    [9, m([1, t + 60], [2, 999_999_999])],
    [10, 0],
    entry(11, 'app', 'web'),
    entry(11, 'tier', ''),
    entry(12, 'note', 'a "quoted" value'),
    [13, m([5, 'apps/v1'], [1, 'Deployment'], [3, 'web'], [4, 'owner-uid'], [6, true], [7, false])],
    [13, m([1, 'Widget'], [3, 'w'])],
    [14, 'example.com/cleanup'],
    [14, 'kubernetes'],
    [17, m([1, 'kubectl-client-side-apply'], [2, 'Update'], [3, 'v1'], [4, m([1, t])], [6, 'FieldsV1'], [7, m([1, '{"f:data":{"f:a":{}}}'])], [8, ''])],
    [17, m([1, 'status-writer'], [2, 'Update'], [3, 'v1'], [6, 'FieldsV1'], [7, m([1, '{}'])], [8, 'status'])],
  );

  it('decodes every ObjectMeta field to its JSON form', () => {
    const cm = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', m([1, meta], [4, false])));
    expect(cm).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: {
        generateName: 'cm-',
        namespace: 'default',
        uid: '0d6c1a43-5a3c-4a51-9b6c-2f1d3e4a5b6c',
        resourceVersion: '42',
        generation: 3,
        creationTimestamp: '2023-11-14T22:13:20Z',
        // metav1.Time has whole seconds: the nanoseconds are dropped, as Kubernetes does.
        deletionTimestamp: '2023-11-14T22:14:20Z',
        deletionGracePeriodSeconds: 0,
        labels: { app: 'web', tier: '' },
        annotations: { note: 'a "quoted" value' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'owner-uid', controller: true, blockOwnerDeletion: false },
          // apiVersion, kind, name and uid have no omitempty: they are written even when empty.
          { apiVersion: '', kind: 'Widget', name: 'w', uid: '' },
        ],
        finalizers: ['example.com/cleanup', 'kubernetes'],
        managedFields: [
          {
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2023-11-14T22:13:20Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:data': { 'f:a': {} } },
          },
          { manager: 'status-writer', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {}, subresource: 'status' },
        ],
      },
      // a pointer field present on the wire is set, even to false
      immutable: false,
    });
  });

  it('keeps the object keys in the order Kubernetes writes them', () => {
    const cm = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', m(entry(2, 'k', 'v'), [4, true], [1, meta])));
    expect(Object.keys(cm)).toEqual(['kind', 'apiVersion', 'metadata', 'immutable', 'data']);
    expect(Object.keys(cm.metadata as object).slice(0, 4)).toEqual(['generateName', 'namespace', 'uid', 'resourceVersion']);
  });

  it('skips fields it does not know, as Kubernetes does', () => {
    const ns = decodeKubernetesProtobuf(envelope('v1', 'Namespace', m([1, m([1, 'n'], [99, 'future'], [100, 7])], [42, m([1, 'x'])], [2, m([1, 'kubernetes'])])));
    expect(ns).toEqual({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] } });
  });

  it('decodes Namespace status: phase and conditions', () => {
    const ns = decodeKubernetesProtobuf(
      envelope('v1', 'Namespace', m([1, m([1, 'old'])], [3, m([1, 'Terminating'], [2, m([1, 'NamespaceDeletionContentFailure'], [2, 'False'], [4, m([1, t])], [5, ''], [6, 'ok'])])])),
    );
    expect(ns.status).toEqual({
      phase: 'Terminating',
      conditions: [{ type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '2023-11-14T22:13:20Z', message: 'ok' }],
    });
  });
});

describe('decodeKubernetesProtobuf: Event, Lease, Secret, DeleteOptions', () => {
  const t = 1_700_000_000;

  it('decodes a core/v1 Event as client-go event recorders send it', () => {
    const involved = m([1, 'VirtualMachine'], [2, 'default'], [3, 'vm-1'], [4, 'vm-uid'], [5, 'virtflow.io/v1alpha1'], [6, '7'], [7, '']);
    const event = decodeKubernetesProtobuf(
      envelope(
        'v1',
        'Event',
        m(
          [1, m([1, 'vm-1.179a6e0c'], [3, 'default'])],
          [2, involved],
          [3, 'Scheduled'],
          [4, 'placed on bm-3'],
          [5, m([1, 'scheduler'], [2, ''])],
          [6, m([1, t])],
          [7, m([1, t + 60])],
          [8, 2],
          [9, 'Normal'],
          [10, m([1, t], [2, 123_456_789])],
          [11, m([1, 3], [2, m([1, t + 90], [2, 5_000])])],
          [12, 'Bind'],
          [13, m([1, 'BareMetal'], [3, 'bm-3'])],
          [14, ''],
          [15, 'scheduler-0'],
        ),
      ),
    );
    expect(event).toEqual({
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name: 'vm-1.179a6e0c', namespace: 'default' },
      involvedObject: { kind: 'VirtualMachine', namespace: 'default', name: 'vm-1', uid: 'vm-uid', apiVersion: 'virtflow.io/v1alpha1', resourceVersion: '7' },
      reason: 'Scheduled',
      message: 'placed on bm-3',
      source: { component: 'scheduler' },
      firstTimestamp: '2023-11-14T22:13:20Z',
      lastTimestamp: '2023-11-14T22:14:20Z',
      count: 2,
      type: 'Normal',
      // MicroTime keeps microseconds (truncated), always six digits
      eventTime: '2023-11-14T22:13:20.123456Z',
      series: { count: 3, lastObservedTime: '2023-11-14T22:14:50.000005Z' },
      action: 'Bind',
      related: { kind: 'BareMetal', name: 'bm-3' },
      // reportingComponent and reportingInstance have no omitempty in Go
      reportingComponent: '',
      reportingInstance: 'scheduler-0',
    });
  });

  it('leaves out a zero (empty) Time, as a JSON client leaves it unset', () => {
    const event = decodeKubernetesProtobuf(envelope('v1', 'Event', m([1, m([1, 'e'], [8, new Uint8Array()])], [2, m()], [6, new Uint8Array()], [7, new Uint8Array()], [10, new Uint8Array()])));
    expect(event).toEqual({ kind: 'Event', apiVersion: 'v1', metadata: { name: 'e' }, involvedObject: {}, reportingComponent: '', reportingInstance: '' });
  });

  it('decodes a coordination.k8s.io/v1 Lease; pointer fields keep their zero values', () => {
    const lease = decodeKubernetesProtobuf(
      envelope(
        'coordination.k8s.io/v1',
        'Lease',
        m([1, m([1, 'virtflow-controller'], [3, 'virtflow-system'])], [2, m([1, 'controller-0_abc'], [2, 15], [3, m([1, t], [2, 500_000_000])], [4, m([1, t + 10])], [5, 0])]),
      ),
    );
    expect(lease).toEqual({
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: { name: 'virtflow-controller', namespace: 'virtflow-system' },
      spec: {
        holderIdentity: 'controller-0_abc',
        leaseDurationSeconds: 15,
        acquireTime: '2023-11-14T22:13:20.500000Z',
        renewTime: '2023-11-14T22:13:30.000000Z',
        leaseTransitions: 0,
      },
    });
  });

  it('decodes a Secret with stringData and immutable', () => {
    const secret = decodeKubernetesProtobuf(envelope('v1', 'Secret', m([1, m([1, 's'])], [5, true], entry(2, 'raw', Uint8Array.from([0, 255])), entry(4, 'plain', 'text'), [3, 'kubernetes.io/basic-auth'])));
    expect(secret).toEqual({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's' },
      immutable: true,
      data: { raw: 'AP8=' },
      stringData: { plain: 'text' },
      type: 'kubernetes.io/basic-auth',
    });
  });

  it('decodes DeleteOptions whatever group-version the client encoded them with', () => {
    const raw = m([1, 0], [2, m([1, 'uid-1'], [2, '5'])], [3, false], [4, 'Foreground'], [5, 'All']);
    for (const apiVersion of ['v1', 'meta.k8s.io/v1', 'coordination.k8s.io/v1']) {
      expect(decodeKubernetesProtobuf(envelope(apiVersion, 'DeleteOptions', raw))).toEqual({
        kind: 'DeleteOptions',
        apiVersion,
        gracePeriodSeconds: 0,
        preconditions: { uid: 'uid-1', resourceVersion: '5' },
        orphanDependents: false,
        propagationPolicy: 'Foreground',
        dryRun: ['All'],
      });
    }
    expect(decodeKubernetesProtobuf(envelope('v1', 'DeleteOptions', m()))).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1' });
  });

  it('decodes negative int64 values (times before 1970)', () => {
    const ns = decodeKubernetesProtobuf(envelope('v1', 'Namespace', m([1, m([1, 'old'], [8, m([1, -86_400])])])));
    expect(ns.metadata).toEqual({ name: 'old', creationTimestamp: '1969-12-31T00:00:00Z' });
  });
});

describe('decodeKubernetesProtobuf: errors', () => {
  const namespace = fixture('kubectl-create-namespace.pb');

  it('rejects a body without the k8s\\0 prefix with a 400', () => {
    const err = decodeError(Buffer.from('{"kind":"Namespace","apiVersion":"v1"}'));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toContain('"k8s\\0"');
    expect(decodeError(Buffer.from('k8s')).code).toBe(400);
  });

  it('rejects truncated bytes with a 400 that says where', () => {
    for (const cut of [1, 3, 10, 30]) {
      const err = decodeError(namespace.subarray(0, namespace.length - cut));
      expect(err.code).toBe(400);
      expect(err.message).toMatch(/^the protobuf request body is malformed: /);
    }
  });

  it('rejects a field with the wrong wire type', () => {
    const err = decodeError(envelope('v1', 'Namespace', m([1, 5])));
    expect(err.code).toBe(400);
    expect(err.message).toContain('metadata: wire type 0 where 2 was expected');
    expect(decodeError(envelope('v1', 'Namespace', m([1, m([7, 'three'])]))).message).toContain('metadata.generation');
  });

  it('rejects a kind it does not decode with a 415 that points to JSON', () => {
    for (const [apiVersion, kind] of [
      ['apps/v1', 'StatefulSet'],
      ['example.com/v1', 'Widget'],
      ['v2', 'Namespace'],
      ['events.k8s.io/v1', 'Event'],
    ]) {
      const err = decodeError(envelope(apiVersion!, kind!, m([1, m([1, 'x'])])));
      expect(err.code).toBe(415);
      expect(err.reason).toBe('UnsupportedMediaType');
      expect(err.message).toContain(`${apiVersion}, Kind=${kind}`);
      expect(err.message).toContain('application/json');
    }
  });

  it('rejects an envelope without a kind, or with an encoding it cannot read', () => {
    expect(decodeError(envelope('v1', '', m())).code).toBe(400);
    const gzip = decodeError(envelope('v1', 'Namespace', m(), [[3, 'gzip']]));
    expect(gzip.code).toBe(415);
    expect(gzip.message).toContain('gzip');
    expect(decodeError(envelope('v1', 'Namespace', m(), [[4, 'application/json']])).code).toBe(415);
  });

  it('rejects managedFields whose fieldsV1 is not JSON, and times out of range', () => {
    const badFields = decodeError(envelope('v1', 'ConfigMap', m([1, m([17, m([1, 'x'], [7, m([1, '{not json'])])])])));
    expect(badFields.code).toBe(400);
    expect(badFields.message).toContain('metadata.managedFields[0].fieldsV1');
    const farFuture = decodeError(envelope('v1', 'ConfigMap', m([1, m([8, m([1, 400_000_000_000])])])));
    expect(farFuture.message).toContain('metadata.creationTimestamp');
    const badNanos = decodeError(envelope('coordination.k8s.io/v1', 'Lease', m([2, m([3, m([1, 1], [2, 1_000_000_000])])])));
    expect(badNanos.message).toContain('spec.acquireTime');
  });
});

describe('workload kinds a simulated workload cluster reads as protobuf', () => {
  const container = (...extra: Array<[number, WireValue]>) => m([1, 'web'], [2, 'nginx:1.27'], [6, m([3, 80], [4, 'TCP'])], [7, m([1, 'MODE'], [2, 'fast'])], [8, m()], ...extra);
  const deployment = (c: Uint8Array) =>
    envelope(
      'apps/v1',
      'Deployment',
      m(
        [1, m([1, 'web'], entry(11, 'app', 'web'))],
        [2, m([1, 2], [2, m(entry(1, 'app', 'web'))], [3, m([1, m(entry(11, 'app', 'web'))], [2, m([2, c])])], [4, m([1, 'RollingUpdate'], [2, m([1, m([1, 1], [3, '25%'])], [2, m([1, 0], [2, 1])])])])],
        [3, m()],
      ),
    );

  it('decodes a Deployment as kubectl create deployment sends it, int-or-strings and quantities included', () => {
    const obj = decodeKubernetesProtobuf(deployment(container()));
    expect(obj).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'MODE', value: 'fast' }], resources: {} }] },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
      },
      status: {},
    });
  });

  it('refuses, rather than drops, a container field it does not declare', () => {
    // Container.securityContext is field 15 upstream; it is not declared here.
    const err = decodeError(deployment(container([15, m([1, m()])])));
    expect(err.code).toBe(415);
    expect(err.message).toContain('field 15 of Container');
    expect(err.message).toContain('application/json');
  });
});
