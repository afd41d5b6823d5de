// The hostile-input flood: malformed and oversized requests of every kind the server must
// survive (random and mutated bodies, bad media types, huge headers and request lines, deep
// nesting, patch bombs, oversized objects, bad query parameters and paths, bad base64,
// unknown fields, YAML alias bombs, broken HTTP framing, requests that stop halfway), sent
// over loopback HTTPS to a real server while a probe measures how fast ordinary GETs stay.
// Bounded in count and time; used by test/integration/hostile.test.ts (a CI-sized run) and
// test/bench/hostile-suite.ts (`npm run bench -- hostile`, the full run).
import { Agent, request } from 'undici';
import { TEST_GROUP, widget, widgetCrd } from './api.js';
import { prng, randomBody, randomPath, randomQuery, randomValue, type Rng } from './fuzz.js';
import { parseRawResponse, rawExchange } from './raw-http.js';

export interface HostileTarget {
  url: string;
  caCert: string;
  token: string;
}

export interface HostileOptions {
  requests: number;
  seed?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** The flood stops sending after this long, whatever is left. */
  deadlineMs?: number;
}

export interface HostileReport {
  sent: number;
  /** Answers by status code ("closed" when the server closed without one, as it may for broken framing). */
  byStatus: Record<string, number>;
  /** Requests by kind of attack. */
  byKind: Record<string, number>;
  /** The slowest answer of each kind, in ms. */
  slowestByKind: Record<string, number>;
  /** What broke a rule: a 5xx, an error body that is no Status, an unanswered request that needed an answer. */
  failures: string[];
  /** 504s for a resourceVersion the store has not reached (kube-apiserver's Timeout with Retry-After), not failures. */
  resourceVersionTooLarge: number;
  durationMs: number;
  requestsPerSecond: number;
  /** The probe's ordinary GETs during the flood. */
  probeGets: number;
  getP50Ms: number;
  getP99Ms: number;
  getMaxMs: number;
}

const NS = 'hostile';

interface Answer {
  status: number | 'closed';
  body: string;
  contentType: string;
}

interface Attack {
  kind: string;
  /** Sends the attack; `expectAnswer` false when closing without an answer is fine. */
  send(): Promise<Answer>;
  expectAnswer: boolean;
  describe: string;
}

/** Creates what the attacks aim at: a namespace, a ConfigMap, the widget kind, and canaries. */
export async function prepareHostileTarget(target: HostileTarget): Promise<{ canary: string; dispatcher: Agent }> {
  const dispatcher = new Agent({ connect: { ca: target.caCert }, connections: 32 });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(`${target.url}${path}`, {
      method: method as 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300 && res.statusCode !== 409) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
    return text;
  };
  await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd());
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target' }, data: { a: 'x'.repeat(2000) } });
  await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fuzz-a' }, data: { a: '1' } });
  // The widget kind may take a moment to be served after its CRD is stored.
  for (let i = 0; ; i++) {
    try {
      await call('POST', `/apis/${TEST_GROUP}/v1/namespaces/${NS}/widgets`, widget('target', { color: 'red', size: 1 }));
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const canary = await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'canaries' } })
    .then(() => call('POST', '/api/v1/namespaces/canaries/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'canary' }, data: { keep: 'me' } }));
  return { canary, dispatcher };
}

/** Runs the flood and the GET probe beside it; answers what happened. */
export async function runHostileFlood(target: HostileTarget, opts: HostileOptions): Promise<HostileReport> {
  const { dispatcher, canary } = await prepareHostileTarget(target);
  const seed = opts.seed ?? 20261206;
  const rng = prng(seed);
  const concurrency = opts.concurrency ?? 8;
  const deadline = performance.now() + (opts.deadlineMs ?? 120_000);
  const report: HostileReport = {
    sent: 0,
    byStatus: {},
    byKind: {},
    slowestByKind: {},
    failures: [],
    resourceVersionTooLarge: 0,
    durationMs: 0,
    requestsPerSecond: 0,
    probeGets: 0,
    getP50Ms: NaN,
    getP99Ms: NaN,
    getMaxMs: NaN,
  };
  const send = sender(target, dispatcher);
  let next = 0;
  let flooding = true;
  const started = performance.now();

  const probe = (async () => {
    const agent = new Agent({ connect: { ca: target.caCert }, connections: 1 });
    const times: number[] = [];
    try {
      while (flooding) {
        const t0 = performance.now();
        const res = await request(`${target.url}/api/v1/namespaces/canaries/configmaps/canary`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${target.token}` },
        });
        await res.body.text();
        times.push(performance.now() - t0);
        if (res.statusCode !== 200) report.failures.push(`probe GET answered ${res.statusCode}`);
      }
    } finally {
      await agent.close();
    }
    return times;
  })();

  const worker = async () => {
    while (next < opts.requests && performance.now() < deadline) {
      const i = next++;
      const attack = pickAttack(rng, send, target);
      report.sent++;
      report.byKind[attack.kind] = (report.byKind[attack.kind] ?? 0) + 1;
      let answer: Answer;
      const t0 = performance.now();
      try {
        answer = await attack.send();
      } catch (err) {
        answer = { status: 'closed', body: String((err as Error).message), contentType: '' };
      }
      const ms = Math.round(performance.now() - t0);
      report.slowestByKind[attack.kind] = Math.max(report.slowestByKind[attack.kind] ?? 0, ms);
      report.byStatus[String(answer.status)] = (report.byStatus[String(answer.status)] ?? 0) + 1;
      const what = () => `#${i} seed ${seed} [${attack.kind}] ${attack.describe.slice(0, 300)} -> ${answer.status} ${answer.body.slice(0, 300)}`;
      if (answer.status === 'closed') {
        if (attack.expectAnswer) report.failures.push(`no answer: ${what()}`);
        continue;
      }
      if (answer.status === 504 && answer.body.includes('ResourceVersionTooLarge')) {
        report.resourceVersionTooLarge++;
        continue;
      }
      if (answer.status >= 500) report.failures.push(what());
      if (answer.status >= 400 && answer.contentType.startsWith('application/json') && answer.body) {
        try {
          const status = JSON.parse(answer.body) as { kind?: string; code?: number };
          if (status.kind !== 'Status' || status.code !== answer.status) report.failures.push(`not a Status: ${what()}`);
        } catch {
          report.failures.push(`unparsable error body: ${what()}`);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    flooding = false;
  }
  const times = (await probe).sort((a, b) => a - b);
  // Nothing the flood sent reached what it never named, and the server still answers.
  const after = await send('GET', '/api/v1/namespaces/canaries/configmaps/canary');
  if (after.status !== 200 || after.body !== canary) report.failures.push(`the canary changed: ${after.status} ${after.body.slice(0, 200)}`);
  const ready = await send('GET', '/readyz');
  if (ready.status !== 200) report.failures.push(`/readyz answered ${ready.status} after the flood`);
  await dispatcher.close();
  const at = (p: number) => (times.length ? times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]! : NaN);
  report.durationMs = Math.round(performance.now() - started);
  report.requestsPerSecond = Math.round((report.sent / report.durationMs) * 1000);
  report.probeGets = times.length;
  report.getP50Ms = round(at(50));
  report.getP99Ms = round(at(99));
  report.getMaxMs = round(times.at(-1) ?? NaN);
  return report;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

type Send = (method: string, path: string, body?: string | Buffer, headers?: Record<string, string>) => Promise<Answer>;

function sender(target: HostileTarget, dispatcher: Agent): Send {
  return async (method, path, body, headers = {}) => {
    const res = await request(`${target.url}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: { authorization: `Bearer ${target.token}`, ...headers },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text, contentType: String(res.headers['content-type'] ?? '') };
  };
}

/** Sends raw bytes over TLS; answers the first status line, or 'closed'. */
async function raw(target: HostileTarget, head: string | Buffer, thenClose = false): Promise<Answer> {
  const exchange = await rawExchange(target.url, target.caCert, head);
  if (thenClose) {
    exchange.destroy();
    return { status: 'closed', body: '', contentType: '' };
  }
  try {
    const text = await exchange.response(40_000);
    const parsed = parseRawResponse(text);
    const type = /content-type: *([^\r\n]*)/i.exec(parsed.headers)?.[1] ?? '';
    return parsed.status ? { status: parsed.status, body: parsed.body, contentType: type } : { status: 'closed', body: '', contentType: '' };
  } finally {
    exchange.destroy();
  }
}

const cm = `/api/v1/namespaces/${NS}/configmaps`;
const wd = `/apis/${TEST_GROUP}/v1/namespaces/${NS}/widgets`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const nestedList = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const json = { 'content-type': 'application/json' };
const jsonPatch = { 'content-type': 'application/json-patch+json' };
const mergePatch = { 'content-type': 'application/merge-patch+json' };

/** One attack of a kind chosen by weight; the heavy ones (megabyte bodies) are rare. */
function pickAttack(rng: Rng, send: Send, target: HostileTarget): Attack {
  const kinds: [number, () => Attack][] = [
    [20, () => fuzz(rng, send)],
    [6, () => patchBomb(rng, send)],
    [1, () => oversizedObject(rng, send)],
    [0.4, () => oversizedBody(rng, send)],
    [6, () => deepNesting(rng, send)],
    [6, () => badContentType(rng, send)],
    [8, () => badQuery(rng, send)],
    [8, () => badPath(rng, send)],
    [5, () => badBase64(rng, send)],
    [5, () => unknownFields(rng, send)],
    [3, () => allNamespaces(rng, send)],
    [3, () => longUrl(rng, send)],
    [3, () => yamlBomb(rng, send)],
    [3, () => badUtf8(rng, send)],
    [3, () => warnings(rng, send)],
    [3, () => numbers(rng, send)],
  ];
  const rawKinds: [number, () => RawAttack][] = [
    [2, () => hugeHeader(rng)],
    [3, () => malformedHttp(rng)],
    [1, () => partialRequest(rng)],
  ];
  const all = [...kinds, ...rawKinds.map(([w, f]) => [w, () => bindRaw(target, f())] as [number, () => Attack])];
  const total = all.reduce((n, [w]) => n + w, 0);
  let pick = rng.next() * total;
  for (const [w, make] of all) {
    pick -= w;
    if (pick <= 0) return make();
  }
  return all[0]![1]();
}

function bindRaw(target: HostileTarget, attack: RawAttack): Attack {
  return { ...attack, send: () => raw(target, attack.bytes, attack.thenClose) };
}

interface RawAttack {
  kind: string;
  bytes: string | Buffer;
  thenClose: boolean;
  expectAnswer: boolean;
  describe: string;
}

const attack = (kind: string, describe: string, send: () => Promise<Answer>, expectAnswer = true): Attack => ({ kind, describe, send, expectAnswer });

function fuzz(rng: Rng, send: Send): Attack {
  const method = rng.pick(['GET', 'GET', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
  const path = `${randomPath(rng, method)}${randomQuery(rng)}`.replace('/namespaces/fuzz/', `/namespaces/${NS}/`);
  const { body, type } = method === 'GET' || method === 'HEAD' ? { body: undefined, type: undefined } : randomBody(rng);
  return attack('fuzz', `${method} ${path} [${type}] ${body?.slice(0, 100)}`, () => send(method, path, body, type ? { 'content-type': type } : {}));
}

function patchBomb(rng: Rng, send: Send): Attack {
  const n = 20 + rng.int(30);
  const from = rng.pick(['', '/data', '/metadata', '/spec']);
  const ops = Array.from({ length: n }, (_, k) => ({ op: 'copy', from, path: rng.chance(0.5) ? `/c${k}` : `/data/c${k}` }));
  const path = rng.chance(0.7) ? `${cm}/target` : `${wd}/target`;
  return attack('patch-bomb', `PATCH ${path} ${n} copies from ${JSON.stringify(from)}`, () => send('PATCH', path, JSON.stringify(ops), jsonPatch));
}

function oversizedObject(rng: Rng, send: Send): Attack {
  const big = 'x'.repeat(1_600_000 + rng.int(1_000_000));
  const how = rng.int(4);
  const name = `big-${rng.int(3)}`;
  switch (how) {
    case 0:
      return attack('oversized-object', 'create', () => send('POST', cm, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: big } }), json));
    case 1:
      return attack('oversized-object', 'merge patch', () => send('PATCH', `${cm}/target`, JSON.stringify({ data: { big } }), mergePatch));
    case 2:
      return attack('oversized-object', 'JSON patch add', () => send('PATCH', `${cm}/target`, JSON.stringify([{ op: 'add', path: '/data/big', value: big }]), jsonPatch));
    default:
      return attack('oversized-object', 'status', () => send('PATCH', `${wd}/target/status`, JSON.stringify({ status: { phase: big } }), mergePatch));
  }
}

function oversizedBody(rng: Rng, send: Send): Attack {
  const body = Buffer.alloc(3 * 1024 * 1024 + 1 + rng.int(100_000), 0x20);
  return attack('oversized-body', `${body.length} bytes`, () => send(rng.pick(['POST', 'PUT', 'PATCH']), rng.pick([cm, `${cm}/target`]), body, json));
}

function deepNesting(rng: Rng, send: Send): Attack {
  const depth = rng.pick([101, 200, 999, 1000, 5000, 50_000]);
  const value = depth > 5000 || rng.chance(0.5) ? nestedList(depth) : nestedObject(depth);
  const shape = rng.int(4);
  if (shape === 0) return attack('deep', `create ${depth}`, () => send('POST', wd, `{"apiVersion":"${TEST_GROUP}/v1","kind":"Widget","metadata":{"name":"deep"},"spec":{"note":${value}}}`, json));
  if (shape === 1) return attack('deep', `merge ${depth}`, () => send('PATCH', `${cm}/target`, `{"data":{"a":${value}}}`, mergePatch));
  if (shape === 2) return attack('deep', `json patch ${depth}`, () => send('PATCH', `${cm}/target`, `[{"op":"add","path":"/x","value":${value}}]`, jsonPatch));
  const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: {a: ${nestedList(Math.min(depth, 20_000))}}\n`;
  return attack('deep', `yaml ${depth}`, () => send('POST', cm, yaml, { 'content-type': 'application/yaml' }));
}

function badContentType(rng: Rng, send: Send): Attack {
  const type = rng.pick([
    'application/xml',
    'text/html; charset=bogus',
    'application/json; charset=utf-16',
    'multipart/form-data; boundary=x',
    'application/vnd.kubernetes.protobuf',
    'application/cbor',
    'application/apply-patch+cbor',
    'application/x-www-form-urlencoded',
    '*/*',
    ';;;',
    'application/json, text/plain',
    'a'.repeat(2000),
  ]);
  const method = rng.pick(['POST', 'PUT', 'PATCH']);
  const body = rng.chance(0.5) ? JSON.stringify(randomValue(rng)) : Buffer.from(Array.from({ length: 1 + rng.int(300) }, () => rng.int(256)));
  const accept: Record<string, string> = rng.chance(0.3) ? { accept: rng.pick(['application/vnd.kubernetes.protobuf', 'text/html', 'application/json;as=Table;g=bogus', 'application/json;as=Bogus;v=v1;g=meta.k8s.io', '']) } : {};
  return attack('content-type', `${method} [${type}]`, () => send(method, method === 'POST' ? cm : `${cm}/target`, body, { 'content-type': type, ...accept }));
}

function badQuery(rng: Rng, send: Send): Attack {
  const key = rng.pick(['limit', 'timeoutSeconds', 'gracePeriodSeconds', 'watch', 'allowWatchBookmarks', 'sendInitialEvents', 'fieldValidation', 'dryRun', 'propagationPolicy', 'includeObject', 'labelSelector', 'fieldSelector', 'continue', 'resourceVersionMatch', 'force', 'fieldManager']);
  const value = rng.pick(['abc', '1.5', '1e3', '0x10', '+7', '-1', '99999999999999999999', '', '%', 'True', 'yes', 'f', 'Bogus', '!!!', 'a in (', 'x'.repeat(300), '\u0000', '日本', 'metadata.name==a==b']);
  const isWatch = key === 'watch' || key === 'allowWatchBookmarks' || key === 'sendInitialEvents';
  const query = `${key}=${encodeURIComponent(value)}${isWatch ? '&timeoutSeconds=1' : ''}`;
  const method = key === 'gracePeriodSeconds' || key === 'propagationPolicy' ? 'DELETE' : key === 'fieldValidation' || key === 'dryRun' || key === 'fieldManager' || key === 'force' ? 'PATCH' : 'GET';
  const path = method === 'DELETE' ? `${cm}/nothing-here?${query}` : method === 'PATCH' ? `${cm}/target?${query}` : `${rng.pick([cm, wd, '/api/v1/configmaps'])}?${query}`;
  return attack('query', `${method} ${path}`, () => send(method, path, method === 'PATCH' ? '{"data":{"q":"1"}}' : undefined, method === 'PATCH' ? mergePatch : {}));
}

function badPath(rng: Rng, send: Send): Attack {
  const path = rng.pick([
    `/api/v1/namespaces/${NS}/configmaps/../secrets`,
    `/api/v1/namespaces/${NS}/configmaps/%2e%2e`,
    `/api/v1/namespaces/${NS}/configmaps/a%00b`,
    `/api/v1/namespaces/${NS}/configmaps/a%2Fb`,
    `/api/v1/namespaces/${NS}/configmaps/%ZZ`,
    `/api/v1/namespaces/${NS}/configmaps/${'n'.repeat(300)}`,
    '/api/v1/namespaces//configmaps',
    '/api//v1/configmaps',
    '/apis/%ff/v1/things',
    `/apis/${TEST_GROUP}/v9/widgets`,
    `/apis/${TEST_GROUP}/v1/namespaces/${NS}/widgets/target/status/extra/more`,
    `/apis/${TEST_GROUP}/v1/namespaces/${NS}/widgets/target/exec`,
    '/api/v1/namespaces/日本/configmaps',
    '/apis/../../etc/passwd',
    '/openapi/v3/apis/../../..',
    '/metrics/../api',
    `/api/v1/namespaces/${NS}/configmaps/target/status`,
    '/api/v1/namespaces/kube-system/secrets/%',
    '/%',
    '/api?',
    '/apis/a/b/c/d/e/f/g/h/i/j',
  ]);
  const method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'POST']);
  return attack('path', `${method} ${path}`, () => send(method, path, method === 'GET' || method === 'DELETE' ? undefined : '{}', method === 'PATCH' ? mergePatch : json));
}

function badBase64(rng: Rng, send: Send): Attack {
  const value = rng.pick(['not base64!', 'aGk', 'a===', '====', 'aGk=aGk=', '日本', 'aG k=', '-_-_', 'YQ', '\u0000']);
  if (rng.chance(0.5)) {
    const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `b64-${rng.int(3)}` }, data: { ok: 'aGk=', bad: value } };
    return attack('base64', `secret ${JSON.stringify(value)}`, () => send('POST', `/api/v1/namespaces/${NS}/secrets?fieldValidation=${rng.pick(['Strict', 'Warn', 'Ignore'])}`, JSON.stringify(body), json));
  }
  return attack('base64', `binaryData ${JSON.stringify(value)}`, () => send('PATCH', `${cm}/target`, JSON.stringify({ binaryData: { bad: value } }), mergePatch));
}

function unknownFields(rng: Rng, send: Send): Attack {
  const kind = rng.pick(['ConfigMap', 'Secret', 'Lease', 'Event', 'Namespace']);
  const metadata: Record<string, unknown> = { name: `unknown-${rng.int(3)}`, [rng.pick(['bogus', 'clusterName', '__proto__', 'constructor', '日本'])]: randomValue(rng) };
  const body: Record<string, unknown> = { apiVersion: kind === 'Lease' ? 'coordination.k8s.io/v1' : 'v1', kind, metadata, [rng.pick(['bogus', 'spec', 'status', 'stringData', 'immutable'])]: randomValue(rng) };
  const path = kind === 'Namespace' ? '/api/v1/namespaces' : kind === 'Lease' ? `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases` : `/api/v1/namespaces/${NS}/${kind.toLowerCase()}s`;
  const validation = rng.pick(['Strict', 'Warn', 'Ignore', '']);
  return attack('unknown-fields', `${kind} ${JSON.stringify(body).slice(0, 100)}`, () => send('POST', `${path}?dryRun=All&fieldValidation=${validation}`, JSON.stringify(body), json));
}

function allNamespaces(rng: Rng, send: Send): Attack {
  const path = rng.pick(['/api/v1/configmaps', '/api/v1/secrets', `/apis/${TEST_GROUP}/v1/widgets`, '/apis/coordination.k8s.io/v1/leases']);
  const method = rng.pick(['DELETE', 'POST', 'PUT', 'PATCH']);
  return attack('all-namespaces', `${method} ${path}`, () => send(method, path, method === 'DELETE' ? undefined : JSON.stringify({ metadata: { name: 'x', namespace: NS } }), json));
}

function longUrl(rng: Rng, send: Send): Attack {
  const length = rng.pick([33 * 1024, 40_000, 60_000]);
  return attack('long-url', `${length} bytes`, () => send('GET', `${cm}?labelSelector=a%3D${'x'.repeat(length)}`));
}

function yamlBomb(rng: Rng, send: Send): Attack {
  const levels = Array.from({ length: 9 }, (_, k) => `l${k + 1}: &l${k + 1} [${Array(9).fill(`*l${k}`).join(',')}]`).join('\n');
  const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nl0: &l0 "lol"\n${levels}\n`;
  const body = rng.pick([bomb, 'a: &a [*a]\n', '!!binary "%%%"\n', `data: {${'k: v, '.repeat(50)}}\n`, `data:\n${Array.from({ length: 20_000 }, (_, k) => `  k${k}: v`).join('\n')}\n`, `a: ${'['.repeat(20_000)}\n`, '? [a]\n: b\n', '---\n...\n---\n']);
  const type = rng.pick(['application/yaml', 'application/apply-patch+yaml']);
  return attack('yaml-bomb', `${type} ${body.slice(0, 60)}`, () =>
    send(type.includes('apply') ? 'PATCH' : 'POST', type.includes('apply') ? `${cm}/target?fieldManager=hostile` : cm, body, { 'content-type': type }),
  );
}

function badUtf8(rng: Rng, send: Send): Attack {
  const invalid = Buffer.from(rng.pick(['c328', 'a0a1', 'e28228', 'f0288c28', 'ed a0 80'.replace(/ /g, ''), 'ff', 'c0af']), 'hex');
  const body = Buffer.concat([Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"utf"},"data":{"a":"'), invalid, Buffer.from('"}}')]);
  return attack('bad-utf8', invalid.toString('hex'), () => send('POST', `${cm}?dryRun=All`, body, json));
}

function warnings(rng: Rng, send: Send): Attack {
  const field = rng.pick(['日本', 'quote"d', 'back\\slash', 'ctl\u0001x', 'emoji😀', 'x'.repeat(5000), '\ud800lone']);
  const spec = Object.fromEntries(Array.from({ length: 1 + rng.int(40) }, (_, k) => [`${field}${k}`, k]));
  return attack('warnings', field.slice(0, 20), () => send('POST', `${wd}?dryRun=All&fieldValidation=Warn`, JSON.stringify(widget(`warn-${rng.int(5)}`, { color: 'red', ...spec })), json));
}

function numbers(rng: Rng, send: Send): Attack {
  const value = rng.pick(['1e400', '-1e400', '9007199254740993', '0.1e-400', '-0', '1E+2', '00', '1.', '.5', 'NaN', 'Infinity']);
  return attack('numbers', value, () => send('POST', `${wd}?dryRun=All`, `{"apiVersion":"${TEST_GROUP}/v1","kind":"Widget","metadata":{"name":"n"},"spec":{"size":${value}}}`, json));
}

function hugeHeader(rng: Rng): RawAttack {
  const size = rng.pick([65 * 1024, 100_000, 300_000]);
  const many = rng.chance(0.5);
  const headers = many ? Array.from({ length: Math.ceil(size / 20) }, (_, k) => `X-H${k}: ${'v'.repeat(12)}`).join('\r\n') : `X-Big: ${'a'.repeat(size)}`;
  return { kind: 'huge-header', bytes: `GET /api HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n\r\n`, thenClose: false, expectAnswer: false, describe: `${size} bytes, many=${many}` };
}

function malformedHttp(rng: Rng): RawAttack {
  const bytes = rng.pick([
    'GARBAGE\r\n\r\n',
    'GET\r\n\r\n',
    'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
    'GET /api HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    'GET /api HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
    'POST /api/v1/namespaces/hostile/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\n',
    'POST /api/v1/namespaces/hostile/configmaps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot chunked\r\n',
    'POST /api/v1/namespaces/hostile/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /api/v1/namespaces/hostile/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000',
    'GET /api HTTP/1.1\nHost: x\n\n',
    `GET /${'\u00ff'.repeat(100)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  ]);
  return { kind: 'malformed-http', bytes: Buffer.from(bytes, 'latin1'), thenClose: false, expectAnswer: false, describe: JSON.stringify(bytes.slice(0, 80)) };
}

function partialRequest(rng: Rng): RawAttack {
  const bytes = rng.pick([
    'GET /api/v1/namespaces/hostile/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bear',
    'POST /api/v1/namespaces/hostile/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"apiVersion":',
    'PATCH /api/v1/namespaces/hostile/configmaps/target HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"data":',
  ]);
  return { kind: 'partial', bytes, thenClose: true, expectAnswer: false, describe: JSON.stringify(bytes.slice(0, 80)) };
}
