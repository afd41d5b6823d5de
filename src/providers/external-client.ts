// The external world of a VirtualMachine behind one narrow interface, in the spirit of
// Crossplane's ExternalClient. The VM controller decides *what* to do from an Observation;
// a provider only knows *how*: over HTTP to an external controller (http-provider.ts), and
// later perhaps KubeVirt or libvirt beside it.
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import type {
  Address,
  DataDiskPolicy,
  Image,
  Operation,
  OperationState,
  OperationType,
  Placement,
  PowerAction,
  PowerState,
  Resources,
} from './protocol.js';

export type { Address, DataDiskPolicy, Image, Operation, OperationState, OperationType, Placement, PowerAction, PowerState, Resources };

/** What the external controller says about a VM's machine. */
export interface Observation {
  /** A machine exists for the VM's uid. */
  exists: boolean;
  /**
   * The machine was built or updated for the VM's current metadata.generation (or later).
   * False whenever `exists` is false.
   */
  upToDate: boolean;
  /** The generation the machine was last built or updated for. */
  generation?: number;
  powerState?: PowerState;
  externalId?: string;
  addresses: Address[];
  /** The latest operation on this uid, whatever its type; absent when none is known. */
  lastOperation?: Operation;
}

/** The answer to a request that started (or found) an operation. */
export interface OperationRef {
  operationId: string;
  type: OperationType;
  /**
   * The operation's state now. Pending/Running: the result arrives later through the
   * status callback (and observe). Succeeded/Failed: a repeated request found it finished.
   */
  state: OperationState;
  message?: string;
}

/** What create needs beyond the VM object: the resolved image and reserved resources. */
export interface ProvisionContext {
  /** The VirtualMachineImage spec.image names, resolved. */
  image: Image;
  /** Reserved resources; defaults to vm.status.resources (set when the VM was placed). */
  resources?: Resources;
  /** Start the machine once built; defaults to spec.runStrategy !== 'Halted'. */
  powerOn?: boolean;
  /**
   * Build it even though the uid's machine was deleted through the protocol (a delete
   * VirtFlow did not ask for). Only after checking the VM exists and is not being deleted.
   */
  recreate?: boolean;
}

export interface PowerOptions {
  /** stop/restart: power off at once instead of a graceful shutdown (spec.stopPolicy Force). */
  force?: boolean;
  /**
   * Idempotency key. A repeated request with the same key is the same operation (unless that
   * one Failed: then it is a new attempt). Defaults to `<action>:g<generation>`; a repair
   * of drift within one generation must pass a new key (e.g. `start:g4:repair:<n>`).
   */
  requestId?: string;
}

export interface DeleteOptions {
  /** Delete or Retain the data disk; defaults to spec.dataDisk, then Delete. */
  dataDisk?: DataDiskPolicy;
  /** Idempotency key; defaults to `delete:<deletionTimestamp or g<generation>>`. */
  requestId?: string;
}

/**
 * The external side of a VirtualMachine.
 *
 * Contract (every implementation keeps it; the VM controller relies on it):
 * - No call blocks on the physical work. create, update, power and delete answer as soon as
 *   the external controller has *accepted* the request, with an OperationRef; progress and
 *   the result arrive later as a merge patch of the VM's status (status.lastOperation,
 *   powerState, externalId, addresses), and through `observe`.
 * - `observe` never changes anything, external or in VirtFlow. A uid the external controller
 *   does not know is `{exists: false, upToDate: false}`, not an error.
 * - Every call is idempotent. `create` is keyed by uid + generation: repeating it (after a
 *   crash, a lost answer, a timeout) answers the same operation and never builds a second
 *   machine; create of a VM whose machine exists is not an error. `update` is keyed by
 *   uid + generation, `power` and `delete` by their requestId. `delete` of a VM without a
 *   machine is not an error (it answers a Succeeded operation).
 * - A repeated request whose operation Failed starts a new attempt (a new operationId), so
 *   retrying a failed operation converges.
 * - One operation at a time per uid: a different request while one is Pending/Running is
 *   refused with ProviderRejected (status 409, code OperationInProgress, retryable).
 * - Failures are thrown as ProviderError subclasses (ProviderUnreachable, ProviderTimeout,
 *   ProviderRejected); each carries a constant `reason` for conditions and Events and says
 *   whether retrying can help. Anything else thrown is a bug.
 */
export interface VirtualMachineProvider {
  /** Reads what exists for vm.metadata.uid. Never changes anything. */
  observe(vm: VirtualMachine): Promise<Observation>;
  /** Builds the machine on the placed host; idempotent by uid + generation. */
  create(vm: VirtualMachine, placement: Placement, ctx: ProvisionContext): Promise<OperationRef>;
  /**
   * Brings the machine to vm.metadata.generation (resources from ctx or vm.status.resources,
   * placement from vm.status.placement); idempotent by uid + generation. Call it when
   * observe says exists and not upToDate. Without ctx.image the machine keeps its image.
   */
  update(vm: VirtualMachine, ctx?: Partial<ProvisionContext>): Promise<OperationRef>;
  /** start, stop (graceful or forced) or restart; idempotent by requestId. */
  power(vm: VirtualMachine, action: PowerAction, opts?: PowerOptions): Promise<OperationRef>;
  /** Removes the machine, retaining or deleting its data disk; idempotent, missing is fine. */
  delete(vm: VirtualMachine, opts?: DeleteOptions): Promise<OperationRef>;
  /**
   * Moves the running machine to another host (live migration); idempotent by requestId.
   * Only for external controllers that announce the capability `migrate` (status.capabilities
   * of their ExternalController); a provider without it leaves this out.
   */
  migrate?(vm: VirtualMachine, target: Placement, opts: { requestId: string }): Promise<OperationRef>;
}

// ---------------------------------------------------------------------------------------
// Errors: what the VM controller turns into a condition and a Warning Event.

/** Reasons, usable as condition reasons and Event reasons as they are. */
export const providerReasons = {
  unreachable: 'ProviderUnreachable',
  timeout: 'ProviderTimeout',
  rejected: 'ProviderRejected',
  credentialsUnavailable: 'ProviderCredentialsUnavailable',
  insecureEndpoint: 'InsecureEndpoint',
  noExternalController: 'NoExternalController',
} as const;

export type ProviderOperation = 'observe' | 'create' | 'update' | 'power' | 'delete' | 'migrate' | 'probe';

export abstract class ProviderError extends Error {
  /** Constant CamelCase reason for conditions and Events; detail stays in the message. */
  abstract readonly reason: (typeof providerReasons)[keyof typeof providerReasons];
  /** Could the same request succeed later without anything changing on VirtFlow's side. */
  abstract readonly retryable: boolean;

  constructor(
    readonly operation: ProviderOperation,
    readonly endpoint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The endpoint could not be reached: connection refused, DNS, TLS, connection lost. */
export class ProviderUnreachable extends ProviderError {
  readonly reason = providerReasons.unreachable;
  readonly retryable = true;
  override readonly name = 'ProviderUnreachable';

  constructor(operation: ProviderOperation, endpoint: string, detail: string, options?: { cause?: unknown }) {
    super(operation, endpoint, `cannot ${operation} at ${endpoint}: unreachable: ${detail}`, options);
  }
}

/**
 * The token of ExternalController.spec.credentialsSecret could not be read: the Secret or
 * its `token` key is missing. Nothing was sent; it may be created later.
 */
export class ProviderCredentialsUnavailable extends ProviderError {
  readonly reason = providerReasons.credentialsUnavailable;
  readonly retryable = true;
  override readonly name = 'ProviderCredentialsUnavailable';

  constructor(operation: ProviderOperation, endpoint: string, detail: string) {
    super(operation, endpoint, `cannot ${operation} at ${endpoint}: ${detail}`);
  }
}

/**
 * The endpoint is http:// and its ExternalController does not set spec.allowInsecureHttp:
 * nothing was sent (the bearer token would travel unencrypted).
 */
export class ProviderInsecureEndpoint extends ProviderError {
  readonly reason = providerReasons.insecureEndpoint;
  readonly retryable = true;
  override readonly name = 'ProviderInsecureEndpoint';

  constructor(operation: ProviderOperation, endpoint: string, detail: string) {
    super(operation, endpoint, `cannot ${operation} at ${endpoint}: ${detail}`);
  }
}

/** The endpoint did not answer within ExternalController.spec.timeoutSeconds. */
export class ProviderTimeout extends ProviderError {
  readonly reason = providerReasons.timeout;
  readonly retryable = true;
  override readonly name = 'ProviderTimeout';

  constructor(
    operation: ProviderOperation,
    endpoint: string,
    readonly timeoutMs: number,
  ) {
    super(operation, endpoint, `cannot ${operation} at ${endpoint}: no answer within ${timeoutMs} ms`);
  }
}

/**
 * The endpoint answered, but not with success: an HTTP error (its body's code and message
 * are kept), or a body that does not follow the protocol.
 */
export class ProviderRejected extends ProviderError {
  readonly reason = providerReasons.rejected;
  override readonly name = 'ProviderRejected';
  readonly retryable: boolean;

  constructor(
    operation: ProviderOperation,
    endpoint: string,
    /** HTTP status of the answer. */
    readonly status: number,
    /** ErrorBody.code when the body had one (e.g. OperationInProgress, Deleted). */
    readonly code: string | undefined,
    detail: string,
    /** The raw body, for logs. */
    readonly body?: string,
  ) {
    super(operation, endpoint, `cannot ${operation} at ${endpoint}: HTTP ${status}${code ? ` ${code}` : ''}: ${detail}`);
    // 5xx, throttling and "wait for the running operation" pass; other 4xx need a change.
    this.retryable = status >= 500 || status === 429 || status === 408 || status === 409;
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}
