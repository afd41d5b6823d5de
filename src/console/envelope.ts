// Seed 004's response envelope: {success, data, message} on success, and on failure
// {success: false, error_code, message, details, suggestions}, with its fixed codes and
// HTTP statuses. Every console answer goes through here.
import type { ServerResponse } from 'node:http';
import { ApiError } from '../machinery/errors.js';

export const errorStatus = {
  CONNECTION_ERROR: 503,
  AUTHENTICATION_ERROR: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_NOT_FOUND: 404,
  VALIDATION_ERROR: 400,
  CONFLICT_ERROR: 409,
  TIMEOUT_ERROR: 504,
  // Not among seed 004's codes: the per-user in-flight limit the whole API shares
  // (src/api/limits.ts), answered as kube-apiserver does, with Retry-After.
  TOO_MANY_REQUESTS: 429,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class ConsoleError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details = '',
    readonly suggestions: string[] = [],
    /** Seconds a client should wait before trying again (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const consoleErrors = {
  validation: (message: string, details = '') => new ConsoleError('VALIDATION_ERROR', message, details, ['Correct the named parameter and send the request again.']),
  notFound: (what: string) => new ConsoleError('RESOURCE_NOT_FOUND', `${what} not found`, '', ['Check the name and namespace, or list the resources to see what exists.']),
  authentication: (details = '') =>
    new ConsoleError('AUTHENTICATION_ERROR', 'authentication failed', details, ['Check the token: send "Authorization: Bearer <token>" with a valid, unexpired VirtFlow token.']),
  permission: (details: string) =>
    new ConsoleError('PERMISSION_DENIED', 'permission denied', details, ['This operation needs the super administrator or operations administrator role; ask an administrator to bind one to you.']),
  conflict: (message: string, details = '') => new ConsoleError('CONFLICT_ERROR', message, details, ['Read the resource again and retry with its current state, or choose another name.']),
};

export function sendSuccess(res: ServerResponse, data: unknown, message = 'OK', status = 200): void {
  send(res, status, { success: true, data, message });
}

export function sendFailure(res: ServerResponse, err: ConsoleError): void {
  const body = { success: false, error_code: err.code, message: err.message, details: err.details, suggestions: err.suggestions };
  send(res, err.status, body, err.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(err.retryAfterSeconds) });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** Any failure as a console error; the VirtFlow API's own refusals keep their meaning. */
export function toConsoleError(err: unknown): ConsoleError {
  if (err instanceof ConsoleError) return err;
  if (err instanceof ApiError) {
    if (err.code === 429) {
      const wait = err.details?.retryAfterSeconds ?? 1;
      return new ConsoleError('TOO_MANY_REQUESTS', err.message, err.reason, [`You have too many requests in flight; wait ${wait} s and send it again.`], wait);
    }
    const code: ErrorCode =
      err.code === 401 ? 'AUTHENTICATION_ERROR'
      : err.code === 403 ? 'PERMISSION_DENIED'
      : err.code === 404 ? 'RESOURCE_NOT_FOUND'
      : err.code === 409 ? 'CONFLICT_ERROR'
      : err.code === 504 ? 'TIMEOUT_ERROR'
      : err.code === 503 ? 'CONNECTION_ERROR'
      : 'VALIDATION_ERROR';
    const suggestions = code === 'VALIDATION_ERROR' ? ['Correct the request as the message says and send it again.'] : [];
    if (err.code >= 500 && code === 'VALIDATION_ERROR') {
      return new ConsoleError('CONNECTION_ERROR', 'VirtFlow could not complete the operation', err.reason, ['Retry in a moment; if it persists, check VirtFlow\'s logs.']);
    }
    return new ConsoleError(code, err.message, err.reason, suggestions);
  }
  // Not a refusal anyone meant: a bug, or VirtFlow's own database away. Logged, not echoed.
  process.stderr.write(`virtflow console: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
  return new ConsoleError('CONNECTION_ERROR', 'the operation could not be completed', '', ['Retry in a moment; if it persists, check VirtFlow\'s logs.']);
}
