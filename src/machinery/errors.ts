// Every failure the API returns is a metav1.Status; ApiError carries one through the code
// so that a handler can throw anywhere and the HTTP layer answers with the right shape.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'RequestURITooLong'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

/** One field-level cause, as NewInvalid builds them: type is a FieldValueXxx cause type. */
export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

/** A Status as it arrives from a server: any of its fields may be missing, its reason unknown to us. */
export interface ReceivedStatus {
  kind?: string;
  status?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: Omit<StatusDetails, 'causes'> & { causes?: { reason?: string; message?: string; field?: string }[] };
}

/**
 * A failed API call, on either side of the wire: the server throws one and answers with its
 * Status; a client turns the Status it received back into one (`fromStatus`).
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    // A server may send reasons this version does not know.
    readonly reason: StatusReason | (string & {}),
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The error a client received: the Status's message, or `fallback` when it sent none. */
  static fromStatus(code: number, status: ReceivedStatus | undefined, fallback: string): ApiError {
    const details = status?.details && typeof status.details === 'object' ? status.details : undefined;
    const causes = Array.isArray(details?.causes) ? details.causes.map(({ reason, ...cause }) => ({ ...(reason !== undefined ? { type: reason } : {}), ...cause })) : undefined;
    return new ApiError(code, typeof status?.reason === 'string' ? status.reason : '', (typeof status?.message === 'string' && status.message) || fallback, details ? { ...details, ...(causes ? { causes } : {}) } : undefined);
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) {
      // metav1.StatusCause's Go field Type is `json:"reason"` on the wire; clients read "reason".
      const { causes, ...rest } = this.details;
      status.details = causes ? { ...rest, causes: causes.map(({ type, ...cause }) => ({ ...(type !== undefined ? { reason: type } : {}), ...cause })) } : rest;
    }
    return status;
  }
}

/** The resource as error messages name it: "widgets.example.com" or "configmaps". */
export interface ResourceRef {
  group: string;
  resource: string;
  kind?: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

export const errors = {
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  unauthorized: (message = 'Unauthorized') => new ApiError(401, 'Unauthorized', message),
  forbidden: (ref: ResourceRef, name: string, why: string) =>
    new ApiError(403, 'Forbidden', `${qualified(ref)} "${name}" is forbidden: ${why}`, {
      name,
      group: ref.group,
      kind: ref.resource,
    }),
  notFound: (ref: ResourceRef, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, {
      name,
      group: ref.group,
      kind: ref.resource,
    }),
  alreadyExists: (ref: ResourceRef, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, {
      name,
      group: ref.group,
      kind: ref.resource,
    }),
  conflict: (ref: ResourceRef, name: string, why: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`,
      { name, group: ref.group, kind: ref.resource },
    ),
  /** 422 with one cause per field, message "Kind.group \"name\" is invalid: field: msg, ..." */
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) => {
    const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const message =
      summary.length === 1
        ? `${qualifiedKind} "${name}" is invalid: ${summary[0]}`
        : `${qualifiedKind} "${name}" is invalid: [${summary.join(', ')}]`;
    return new ApiError(422, 'Invalid', message, { name, group, kind, causes });
  },
  gone: (message: string) => new ApiError(410, 'Expired', message),
  methodNotAllowed: (message: string) => new ApiError(405, 'MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError(406, 'NotAcceptable', message),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UnsupportedMediaType', message),
  tooLarge: (message: string) => new ApiError(413, 'RequestEntityTooLarge', message),
  internal: (message: string) => new ApiError(500, 'InternalError', message),
  unavailable: (message: string) => new ApiError(503, 'ServiceUnavailable', message),
};
