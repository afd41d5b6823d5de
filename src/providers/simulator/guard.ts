// Who the simulator answers: the bearer token (compared in constant time, so the answer time
// says nothing about how much of a guess was right), the Host header (so a web page whose
// name resolves to this address cannot talk to it: DNS rebinding), and which API server a
// caller may ask it to report to (only its own).
import { createHash, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** A check of an Authorization header against `Bearer <token>`; no token: everything passes. */
export function bearerTokenCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (!token) return () => true;
  // Hashes have one length, so timingSafeEqual compares every byte whatever was sent.
  const expected = digest(`Bearer ${token}`);
  return (authorization) => authorization !== undefined && timingSafeEqual(digest(authorization), expected);
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    const name = new URL(`http://${header}`).hostname.toLowerCase();
    return name.startsWith('[') ? name.slice(1, -1) : name;
  } catch {
    return undefined;
  }
}

const wildcard = new Set(['0.0.0.0', '::', '']);

/** The names answered: the loopback names, the listen address, this machine's name, and `extra`. */
export function allowedHostnames(listenHost: string, extra: readonly string[] = []): Set<string> {
  const names = ['localhost', '127.0.0.1', '::1', hostname(), ...extra];
  if (!wildcard.has(listenHost)) names.push(listenHost);
  return new Set(names.map((n) => n.toLowerCase().replace(/^\[|\]$/g, '')));
}

/** Do two API server URLs name the same server (scheme, host and port; a trailing slash aside)? */
export function sameApiServer(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}
