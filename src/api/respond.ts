// Writing answers: objects as JSON or YAML, failures as metav1.Status, warnings as headers.
import type { ServerResponse } from 'node:http';
import YAML from 'yaml';
import { ApiError, errors } from '../machinery/errors.js';

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  sendRaw(res, code, JSON.stringify(body), contentType);
}

/**
 * Sends text already serialized. Handed over as a string, Node writes it together with the
 * headers in one chunk (a Buffer would go as a second one).
 */
export function sendRaw(res: ServerResponse, code: number, text: string, contentType: string): void {
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  res.end(text, 'utf8');
}

export function sendObject(res: ServerResponse, code: number, body: unknown, format: 'json' | 'yaml'): void {
  if (format === 'yaml') {
    const text = YAML.stringify(body);
    res.statusCode = code;
    res.setHeader('Content-Type', 'application/yaml');
    res.end(text);
    return;
  }
  sendJson(res, code, body);
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return errors.internal(`an internal error occurred: ${(err as Error)?.message ?? String(err)}`);
}

export function sendError(res: ServerResponse, err: unknown): ApiError {
  const apiError = toApiError(err);
  if (res.headersSent) {
    res.end();
    return apiError;
  }
  if (apiError.code === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="virtflow"');
  if (apiError.details?.retryAfterSeconds) res.setHeader('Retry-After', String(apiError.details.retryAfterSeconds));
  sendJson(res, apiError.code, apiError.toStatus());
  return apiError;
}

/** Warnings go back as RFC 7234 Warning headers, the way kubectl prints them. */
export function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader(
    'Warning',
    warnings.map((w) => `299 - ${JSON.stringify(w)}`),
  );
}
