// What one client can make the server hold: requests in flight and watches per user, how long a
// request may take to arrive, and how large its request line and headers may be. Answers
// follow kube-apiserver: 429 TooManyRequests with Retry-After (its max-in-flight filter), 414
// and 431 for what the HTTP parser refuses, 408 for a request that does not arrive in time.
import type { Duplex } from 'node:stream';
import { ApiError } from '../machinery/errors.js';

export interface ServerLimits {
  /** Requests (watches aside) one user may have in flight; kube-apiserver's default for all users is 400. */
  maxInflightPerUser: number;
  /** Watches one user may hold open at once. */
  maxWatchesPerUser: number;
  /** Request line plus headers, in bytes (Node's maxHeaderSize); beyond it 431. */
  maxHeaderBytes: number;
  /** The request target (path and query), in bytes; beyond it 414. */
  maxUrlBytes: number;
  /** Time for the request line and headers to arrive (slowloris); kube-apiserver's ReadHeaderTimeout is 32 s. */
  headersTimeoutMs: number;
  /** Time for the whole request (headers and body) to arrive. */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxInflightPerUser: 400,
  maxWatchesPerUser: 1000,
  maxHeaderBytes: 64 * 1024,
  maxUrlBytes: 32 * 1024,
  headersTimeoutMs: 32_000,
  requestTimeoutMs: 60_000,
};

/** kube-apiserver's answer when a max-in-flight limit is reached. */
export function tooManyRequests(message = 'Too many requests, please try again later.'): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds: 1 });
}

/** Counts what each user holds; `acquire` refuses past the limit and answers the release. */
export class UserLimiter {
  private readonly inflight = new Map<string, number>();
  private readonly watches = new Map<string, number>();

  constructor(private readonly limits: Pick<ServerLimits, 'maxInflightPerUser' | 'maxWatchesPerUser'>) {}

  acquire(username: string, watch: boolean): () => void {
    const counts = watch ? this.watches : this.inflight;
    const max = watch ? this.limits.maxWatchesPerUser : this.limits.maxInflightPerUser;
    const held = counts.get(username) ?? 0;
    if (held >= max) {
      throw tooManyRequests(
        watch ? `Too many watches: ${username} holds ${held}, the most one user may hold; close one or try again later.` : undefined,
      );
    }
    counts.set(username, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (counts.get(username) ?? 1) - 1;
      if (left <= 0) counts.delete(username);
      else counts.set(username, left);
    };
  }

  /** What `username` holds now (for tests and metrics). */
  held(username: string): { inflight: number; watches: number } {
    return { inflight: this.inflight.get(username) ?? 0, watches: this.watches.get(username) ?? 0 };
  }
}

/** The 414 for a request target longer than the limit. */
export function uriTooLong(limit: number): ApiError {
  return new ApiError(414, 'RequestURITooLong', `the request URI is too long: the limit is ${limit} bytes`);
}

const PARSER_ANSWERS: Record<string, { code: number; phrase: string; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 431,
    phrase: 'Request Header Fields Too Large',
    reason: 'RequestHeaderFieldsTooLarge',
    message: 'the request line and headers are larger than the server accepts',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 408, phrase: 'Request Timeout', reason: 'Timeout', message: 'the request did not arrive in time' },
};

/**
 * The server's `clientError` handler: what the HTTP parser refused gets an answer (431 for
 * headers over the limit, 408 for a request that took too long, 400 for anything malformed)
 * as a Status, and the connection is closed. Nothing of it reaches the process.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = PARSER_ANSWERS[err.code ?? ''] ?? {
    code: 400,
    phrase: 'Bad Request',
    reason: 'BadRequest',
    message: 'the request is not valid HTTP/1.1',
  };
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: answer.message,
    reason: answer.reason,
    code: answer.code,
  });
  socket.end(
    `HTTP/1.1 ${answer.code} ${answer.phrase}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // A client that never reads the answer does not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}
