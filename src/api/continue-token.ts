// List continue tokens: opaque to clients, a versioned JSON document in base64url to this
// server. Each lister (the object store, the audit trail) names its own version and fields.
import { errors } from '../machinery/errors.js';

export function encodeContinueToken(version: string, fields: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ v: version, ...fields })).toString('base64url');
}

/**
 * The fields of a token this server issued with `version`, as `read` accepts them; anything
 * else (another version, damage, a forgery `read` refuses) is a 400, as kube-apiserver answers.
 */
export function decodeContinueToken<T>(raw: string, version: string, read: (fields: Record<string, unknown>) => T | undefined): T {
  let token: T | undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && (parsed as { v?: unknown }).v === version) token = read(parsed as Record<string, unknown>);
  } catch {
    token = undefined;
  }
  if (token === undefined) throw errors.badRequest('invalid continue token: it was not issued by this server or is damaged; list again without it');
  return token;
}
