// Ordinary Kubernetes API requests under the signed-in identity: the bearer token lives in
// sessionStorage (gone with the tab), and every failure is a metav1.Status turned into an
// ApiFailure that pages show as a sentence ("not allowed", "not available"), never a crash.
import type { KubeObject } from '../../src/machinery/object.js';

const TOKEN_KEY = 'virtflow.token';
/** Dispatched on window when the server refuses the token. */
export const UNAUTHORIZED = 'virtflow:unauthorized';

export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly causes: { field?: string; message?: string }[] = [],
  ) {
    super(message);
  }
  get forbidden(): boolean {
    return this.code === 403;
  }
  get missing(): boolean {
    return this.code === 404;
  }
}

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = session.token;
  return { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
}

/** A Status body (or anything else) of a failed response, as an ApiFailure. */
export async function failureOf(res: Response): Promise<ApiFailure> {
  // A token the server no longer accepts (say, after a new `virtflow up` home): sign in again.
  if (res.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED));
  const text = await res.text().catch(() => '');
  try {
    const status = JSON.parse(text) as { code?: number; reason?: string; message?: string; details?: { causes?: { field?: string; message?: string }[] } };
    return new ApiFailure(status.code ?? res.status, status.reason ?? res.statusText, status.message ?? text, status.details?.causes ?? []);
  } catch {
    return new ApiFailure(res.status, res.statusText, text || res.statusText);
  }
}

export async function request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: authHeaders(body === undefined ? {} : { 'Content-Type': contentType }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiFailure(0, 'ServiceUnavailable', `The API server cannot be reached: ${(err as Error).message}`);
  }
  if (!res.ok) throw await failureOf(res);
  return (await res.json()) as T;
}

export const api = {
  get: <T = KubeObject>(path: string) => request<T>('GET', path),
  create: <T = KubeObject>(path: string, body: unknown, dryRun = false) => request<T>('POST', dryRun ? `${path}?dryRun=All` : path, body),
  mergePatch: <T = KubeObject>(path: string, patch: unknown) => request<T>('PATCH', path, patch, 'application/merge-patch+json'),
  remove: (path: string) => request<unknown>('DELETE', path),
};

/** Checks a token by asking for the VirtFlow group's resources: 401 means it is not accepted. */
export async function signIn(token: string): Promise<void> {
  session.set(token);
  try {
    await api.get('/apis/virtflow.io/v1alpha1');
  } catch (err) {
    session.clear();
    throw err;
  }
}
