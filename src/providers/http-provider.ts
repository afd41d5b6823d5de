// The VirtualMachineProvider that speaks the external-controller protocol v1 over HTTP
// (docs/external-controller-protocol.md). Every request is bounded by the
// ExternalController's timeoutSeconds; every failure becomes a typed ProviderError.
// node:http(s) rather than fetch: it never follows a redirect, takes a CA per request, and
// lets the answer be counted as it arrives (docs/security.md, "External controllers").
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { ExternalController } from '../kinds/externalcontroller.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import { realClock, type Clock } from '../runtime/clock.js';
import { answerText } from './answer-text.js';
import { decodeCaBundle, endpointProblem } from './transport-policy.js';
import {
  isProviderError,
  ProviderInsecureEndpoint,
  ProviderRejected,
  ProviderTimeout,
  ProviderUnreachable,
  type DeleteOptions,
  type Observation,
  type ProviderError,
  type OperationRef,
  type PowerOptions,
  type ProviderOperation,
  type ProvisionContext,
  type VirtualMachineProvider,
} from './external-client.js';
import {
  basePath,
  operationStates,
  operationTypes,
  protocolVersion,
  rfc3339,
  virtualMachineStatusPath,
  type Callback,
  type CreateRequest,
  type Health,
  type Observation as WireObservation,
  type Operation as WireOperation,
  type OperationAccepted,
  type Placement,
  type PowerAction,
  type PowerRequest,
  type MigrateRequest,
  type Resources,
  type UpdateRequest,
} from './protocol.js';

export const defaultTimeoutSeconds = 30;
/** Longest operation message kept from an observe (it is written into the VM's status). */
const maxOperationMessageLength = 1024;

/** Where the external controller reports back: VirtFlow's API server and a status-only token. */
export interface CallbackTarget {
  apiServer?: string;
  caCert?: string;
  token?: string;
}

export interface HttpProviderOptions {
  /** Base URL of the external controller (ExternalController.spec.endpoint). */
  endpoint: string;
  /** Bound on each request, answer body included; default 30 s. */
  timeoutMs?: number;
  /**
   * Bearer token VirtFlow presents to the endpoint (from spec.credentialsSecret), or how to
   * read it for a request: the token, or ProviderCredentialsUnavailable for the request's
   * operation, thrown before anything is sent.
   */
  token?: string | ((op: ProviderOperation) => Promise<string>);
  /** Sent with create and update; fields left out fall back to the controller's own configuration. */
  callback?: CallbackTarget;
  /** Time for the timeouts; tests pass a fake clock. */
  clock?: Clock;
  /** Use an http:// endpoint (ExternalController.spec.allowInsecureHttp); default false. */
  allowInsecureHttp?: boolean;
  /** PEM of the CA(s) to trust for an https endpoint (decoded spec.caBundle); default the system roots. */
  ca?: string;
  /**
   * A CA trusted besides the system roots when there is no `ca`: the one of the API server
   * VirtFlow's controllers use, so a controller with a certificate from VirtFlow's own CA
   * (the simulator of `virtflow up`) needs no caBundle.
   */
  extraCa?: string;
  /** The largest answer read; a bigger one is ProviderRejected. Default maxAnswerBytes. */
  maxAnswerBytes?: number;
}

/** The largest answer VirtFlow reads from an external controller (protocol answers are small). */
export const maxAnswerBytes = 256 * 1024;

export interface Answer {
  status: number;
  body: unknown;
  text: string;
}

/** A JSON body and its fields checked only as far as this client reads them. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeFailure(err: unknown): string {
  const code = (err as { code?: string })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

export class HttpVirtualMachineProvider implements VirtualMachineProvider {
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly token?: HttpProviderOptions['token'];
  private readonly callback: CallbackTarget;
  private readonly clock: Clock;
  private readonly allowInsecureHttp: boolean;
  private readonly ca?: string;
  private readonly maxAnswerBytes: number;
  /** The token last sent, so an answer that echoes it is never repeated. */
  private sentToken?: string;

  constructor(opts: HttpProviderOptions) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? defaultTimeoutSeconds * 1000;
    this.token = opts.token;
    this.callback = opts.callback ?? {};
    this.clock = opts.clock ?? realClock;
    this.allowInsecureHttp = opts.allowInsecureHttp ?? false;
    this.ca = opts.ca ?? (opts.extraCa ? [...tls.rootCertificates, opts.extraCa].join('\n') : undefined);
    this.maxAnswerBytes = opts.maxAnswerBytes ?? maxAnswerBytes;
  }

  async observe(vm: VirtualMachine): Promise<Observation> {
    const uid = uidOf(vm);
    const answer = await this.send('observe', 'GET', `/virtualmachines/${encodeURIComponent(uid)}`);
    if (answer.status !== 200) throw this.rejected('observe', answer);
    const body = answer.body;
    if (!isObject(body) || typeof body.exists !== 'boolean') {
      throw this.rejected('observe', answer, 'the answer is not an Observation');
    }
    const wire = body as unknown as WireObservation;
    const generation = typeof wire.generation === 'number' ? wire.generation : undefined;
    const wanted = vm.metadata.generation ?? 1;
    return {
      exists: wire.exists,
      upToDate: wire.exists && generation !== undefined && generation >= wanted,
      generation,
      powerState: wire.powerState,
      externalId: wire.externalId,
      addresses: Array.isArray(wire.addresses) ? wire.addresses : [],
      lastOperation: wire.lastOperation && this.operationSaid(wire.lastOperation),
    };
  }

  async create(vm: VirtualMachine, placement: Placement, ctx: ProvisionContext): Promise<OperationRef> {
    const request: CreateRequest = {
      uid: uidOf(vm),
      generation: vm.metadata.generation ?? 1,
      namespace: vm.metadata.namespace ?? '',
      name: vm.metadata.name ?? '',
      placement: definedOnly(placement),
      resources: resourcesOf(vm, ctx.resources),
      image: ctx.image,
      specification: vm.spec.specification,
      powerOn: ctx.powerOn ?? vm.spec.runStrategy !== 'Halted',
      ...(ctx.recreate ? { recreate: true } : {}),
      callback: this.callbackFor(vm),
    };
    return this.operation('create', 'POST', '/virtualmachines', request);
  }

  async update(vm: VirtualMachine, ctx: Partial<ProvisionContext> = {}): Promise<OperationRef> {
    const placement = vm.status?.placement;
    const request: UpdateRequest = {
      generation: vm.metadata.generation ?? 1,
      resources: resourcesOf(vm, ctx.resources),
      specification: vm.spec.specification,
      callback: this.callbackFor(vm),
      ...(ctx.image ? { image: ctx.image } : {}),
      ...(placement?.baremetal
        ? {
            placement: definedOnly({
              baremetal: placement.baremetal,
              rack: placement.rack,
              datacenter: placement.datacenter,
              region: placement.region,
            }),
          }
        : {}),
    };
    return this.operation('update', 'PUT', `/virtualmachines/${encodeURIComponent(uidOf(vm))}`, request);
  }

  async power(vm: VirtualMachine, action: PowerAction, opts: PowerOptions = {}): Promise<OperationRef> {
    const request: PowerRequest = {
      action,
      force: opts.force ?? false,
      requestId: opts.requestId ?? `${action}:g${vm.metadata.generation ?? 1}`,
    };
    return this.operation('power', 'POST', `/virtualmachines/${encodeURIComponent(uidOf(vm))}/power`, request);
  }

  async delete(vm: VirtualMachine, opts: DeleteOptions = {}): Promise<OperationRef> {
    const dataDisk = opts.dataDisk ?? vm.spec.dataDisk ?? 'Delete';
    const requestId =
      opts.requestId ?? `delete:${vm.metadata.deletionTimestamp ?? `g${vm.metadata.generation ?? 1}`}`;
    const query = new URLSearchParams({ dataDisk, requestId });
    return this.operation('delete', 'DELETE', `/virtualmachines/${encodeURIComponent(uidOf(vm))}?${query}`);
  }

  async migrate(vm: VirtualMachine, target: Placement, opts: { requestId: string }): Promise<OperationRef> {
    const request: MigrateRequest = { generation: vm.metadata.generation ?? 1, placement: definedOnly(target), requestId: opts.requestId };
    return this.operation('migrate', 'POST', `/virtualmachines/${encodeURIComponent(uidOf(vm))}/migrate`, request);
  }

  /** GET /v1/healthz: resolves with the Health body, or throws a ProviderError. */
  async health(): Promise<Health> {
    const answer = await this.send('probe', 'GET', '/healthz');
    if (answer.status !== 200) throw this.rejected('probe', answer);
    const body = answer.body;
    if (!isObject(body) || body.status !== 'ok' || !Array.isArray(body.versions)) {
      throw this.rejected('probe', answer, 'the answer is not a Health body');
    }
    if (!body.versions.includes(protocolVersion)) {
      throw this.rejected('probe', answer, `the endpoint serves protocol versions ${this.said(body.versions.map(String).join(', '), 64)}, not ${protocolVersion}`);
    }
    return body as unknown as Health;
  }

  private callbackFor(vm: VirtualMachine): Callback {
    return definedOnly({
      apiServer: this.callback.apiServer,
      caCert: this.callback.caCert,
      token: this.callback.token,
      statusPath: virtualMachineStatusPath(vm.metadata.namespace ?? '', vm.metadata.name ?? ''),
    });
  }

  private async operation(op: ProviderOperation, method: string, path: string, body?: unknown): Promise<OperationRef> {
    const answer = await this.send(op, method, path, body);
    if (answer.status !== 200 && answer.status !== 202) throw this.rejected(op, answer);
    const accepted = answer.body;
    if (
      !isObject(accepted) ||
      typeof accepted.operationId !== 'string' ||
      !(operationStates as readonly unknown[]).includes(accepted.state) ||
      !(operationTypes as readonly unknown[]).includes(accepted.type)
    ) {
      throw this.rejected(op, answer, 'the answer is not an OperationAccepted body');
    }
    const wire = accepted as unknown as OperationAccepted;
    return {
      operationId: wire.operationId,
      type: wire.type,
      state: wire.state,
      ...(typeof wire.message === 'string' && wire.message ? { message: this.said(wire.message) } : {}),
    };
  }

  /** An operation as observed, its message fit to repeat (it becomes status and Events). */
  private operationSaid(op: WireOperation): WireOperation {
    return typeof op.message === 'string' ? { ...op, message: this.said(op.message, maxOperationMessageLength) } : op;
  }

  /**
   * One request, answer body included, within the timeout. Connection failures become
   * ProviderUnreachable, the timer ProviderTimeout; redirects (never followed) and answers
   * over maxAnswerBytes ProviderRejected; any other HTTP status is returned as is.
   */
  /** Also the K8s Cluster Service client's transport. */
  async send(op: ProviderOperation, method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(`${this.endpoint}${basePath}${path}`);
    const problem = endpointProblem({ endpoint: this.endpoint, allowInsecureHttp: this.allowInsecureHttp });
    if (problem) throw new ProviderInsecureEndpoint(op, this.endpoint, problem);
    const token = typeof this.token === 'function' ? await this.token(op) : this.token;
    if (token) this.sentToken = token;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (token) headers.authorization = `Bearer ${token}`;
    const secure = url.protocol === 'https:';
    const max = this.maxAnswerBytes;
    return new Promise<Answer>((resolve, reject) => {
      let timedOut = false;
      const timer = this.clock.setTimer(() => {
        timedOut = true;
        request.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const fail = (err: ProviderError) => {
        timer.cancel();
        reject(err);
      };
      const lost = (err: unknown, reading: boolean) => {
        if (timedOut) return fail(new ProviderTimeout(op, this.endpoint, this.timeoutMs));
        const detail = describeFailure(err);
        fail(new ProviderUnreachable(op, this.endpoint, reading ? `connection lost while reading the answer: ${detail}` : detail, { cause: err }));
      };
      const options: https.RequestOptions = { method, headers, ...(secure && this.ca ? { ca: this.ca } : {}) };
      const request = (secure ? https : http).request(url, options, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          request.destroy();
          const location = typeof res.headers.location === 'string' ? ` to ${answerText(res.headers.location, [token], 120)}` : '';
          return fail(new ProviderRejected(op, this.endpoint, status, undefined, `redirects are not followed: the endpoint answered ${status}${location}; register the address that answers in spec.endpoint`));
        }
        const tooLarge = () => {
          request.destroy();
          fail(new ProviderRejected(op, this.endpoint, status, undefined, `the answer is larger than ${max} bytes, the most VirtFlow reads`));
        };
        if (Number(res.headers['content-length'] ?? 0) > max) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) return tooLarge();
          chunks.push(chunk);
        });
        res.on('error', (err) => lost(err, true));
        res.on('aborted', () => lost(new Error('the answer was cut short'), true));
        res.on('end', () => {
          if (size > max) return;
          timer.cancel();
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status, body: parsed, text });
        });
      });
      request.on('error', (err) => lost(err, false));
      request.end(payload);
    });
  }

  /** The controller's words, fit to repeat in a condition or an Event. */
  private said(text: string, max?: number): string {
    return answerText(text, [this.sentToken, this.callback.token], max);
  }

  rejected(op: ProviderOperation, answer: Answer, why?: string): ProviderRejected {
    const body = isObject(answer.body) ? answer.body : {};
    const code = typeof body.code === 'string' ? answerText(body.code, [], 64) : undefined;
    const message = why ?? this.said(typeof body.message === 'string' ? body.message : answer.text) ?? '';
    return new ProviderRejected(op, this.endpoint, answer.status, code, message || 'empty answer', this.said(answer.text, 4000));
  }
}

/** A provider for an ExternalController: its endpoint, its timeoutSeconds. */
export function httpProviderFor(
  controller: ExternalController,
  opts: Omit<HttpProviderOptions, 'endpoint' | 'timeoutMs' | 'allowInsecureHttp' | 'ca'> = {},
): HttpVirtualMachineProvider {
  return new HttpVirtualMachineProvider({
    ...opts,
    endpoint: controller.spec.endpoint,
    timeoutMs: (controller.spec.timeoutSeconds ?? defaultTimeoutSeconds) * 1000,
    allowInsecureHttp: controller.spec.allowInsecureHttp === true,
    ...(controller.spec.caBundle ? { ca: decodeCaBundle(controller.spec.caBundle) } : {}),
  });
}

/** What a probe found, ready for ExternalController status {reachable, lastProbeTime}. */
export interface ProbeResult {
  reachable: boolean;
  /** RFC 3339, at second precision. */
  lastProbeTime: string;
  /** Why not reachable (the ProviderError's message), or what answered. */
  message: string;
  /** Constant reason when not reachable: ProviderUnreachable, ProviderTimeout or ProviderRejected. */
  reason?: string;
  health?: Health;
}

/**
 * Probes an ExternalController's endpoint with GET /v1/healthz. Never throws: a failure is
 * `reachable: false` with the reason and message. An endpoint that answers but does not
 * serve protocol v1 is not reachable either.
 */
export async function probeExternalController(
  controller: ExternalController,
  opts: { token?: HttpProviderOptions['token']; clock?: Clock; extraCa?: string } = {},
): Promise<ProbeResult> {
  const clock = opts.clock ?? realClock;
  const provider = httpProviderFor(controller, { token: opts.token, clock, extraCa: opts.extraCa });
  const lastProbeTime = rfc3339(clock.now());
  try {
    const health = await provider.health();
    const what = health.implementation ? `${answerText(String(health.implementation), [], 64)}, ` : '';
    const versions = answerText(health.versions.map(String).join(', '), [], 64);
    return { reachable: true, lastProbeTime, message: `${what}protocol ${versions}`, health };
  } catch (err) {
    if (isProviderError(err)) {
      return { reachable: false, lastProbeTime, message: err.message, reason: err.reason };
    }
    throw err;
  }
}

function uidOf(vm: VirtualMachine): string {
  const uid = vm.metadata.uid;
  if (!uid) throw new Error(`cannot address VirtualMachine ${vm.metadata.namespace}/${vm.metadata.name} externally: it has no metadata.uid`);
  return uid;
}

function resourcesOf(vm: VirtualMachine, given: Resources | undefined): Resources {
  if (given) return given;
  const r = vm.status?.resources;
  if (!r || r.cpu === undefined || r.memory === undefined || r.storage === undefined) {
    throw new Error(
      `cannot describe VirtualMachine ${vm.metadata.namespace}/${vm.metadata.name} to its external controller: status.resources is not set (is it placed?)`,
    );
  }
  return { cpu: r.cpu, memory: String(r.memory), storage: String(r.storage), gpu: r.gpu ?? 0 };
}

/** Drops undefined members, so JSON bodies carry only what is known. */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
