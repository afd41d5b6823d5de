// Bearer-token authentication. Two kinds of tokens: opaque ones kept hashed in the database
// (the admin token of `virtflow up`, shared by every replica over that database), and
// ServiceAccount JWTs (src/auth/service-account-tokens.ts), checked without the database.
// A token that cannot be either is refused before any hash or lookup; only valid tokens are
// cached, so a flood of bad ones never evicts good ones; a client that keeps failing is
// answered 429 until it slows down.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError, errors } from '../machinery/errors.js';
import type { Database } from '../store/database.js';
import { FailureLimiter, LruCache } from '../auth/failure-limiter.js';
import { AUTHENTICATED_GROUP } from '../auth/rbac-rules.js';
import type { ServiceAccountRef, ServiceAccountTokens } from '../auth/service-account-tokens.js';
import type { UserInfo } from './object-service.js';

/** How long a database token stays trusted without asking again (its revocation delay). */
const DATABASE_TOKEN_CACHE_MS = 10_000;
const MAX_CACHED_TOKENS = 10_000;
/** Opaque tokens are 32 random bytes in base64url; JWTs are three base64url parts. */
const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{16,256}$/;
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JWT_LENGTH = 8192;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function registerToken(db: Database, token: string, user: UserInfo): Promise<void> {
  await db.query(
    `INSERT INTO api_tokens (token_hash, username, groups) VALUES (?, ?, ?::jsonb)
     ON CONFLICT (token_hash) DO UPDATE SET username = EXCLUDED.username, groups = EXCLUDED.groups`,
    [hashToken(token), user.username, JSON.stringify(user.groups)],
  );
}

type Cached = { user: UserInfo; until: number } | { sa: ServiceAccountRef; until: number };

export class TokenAuthenticator {
  private readonly valid = new LruCache<string, Cached>(MAX_CACHED_TOKENS);
  readonly failures: FailureLimiter;
  private readonly clock: () => number;

  constructor(
    private readonly db: Database,
    /** Set once the signing key is loaded; until then only database tokens are accepted. */
    public serviceAccounts?: ServiceAccountTokens,
    opts: { failures?: FailureLimiter; clock?: () => number } = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.failures = opts.failures ?? new FailureLimiter({ clock: this.clock });
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const client = req.socket?.remoteAddress ?? 'unknown';
    const token = bearerToken(req.headers.authorization);
    const now = this.clock();
    const hit = token ? this.valid.get(token) : undefined;
    if (hit && hit.until > now) {
      const user = 'user' in hit ? hit.user : this.serviceAccounts?.userOf(hit.sa);
      if (user) return user;
      this.valid.delete(token!);
    }
    // What cannot be a token costs nothing more and is refused at once.
    const kind = token === undefined ? undefined : tokenKind(token);
    if (!kind) throw errors.unauthorized();
    // Only a token worth a verification or a lookup counts, and only now, with no valid
    // cached token, does a client that keeps failing wait.
    const wait = this.failures.retryAfter(client);
    if (wait > 0) {
      throw new ApiError(429, 'TooManyRequests', `too many failed authentication attempts from this client; retry after ${wait}s`, {
        retryAfterSeconds: wait,
      });
    }
    const user = await this.lookup(token!, kind, now);
    if (!user) {
      this.failures.fail(client);
      throw errors.unauthorized();
    }
    return user;
  }

  private async lookup(token: string, kind: 'jwt' | 'opaque', now: number): Promise<UserInfo | undefined> {
    if (kind === 'jwt') {
      const verified = await this.serviceAccounts?.verify(token);
      if (!verified) return undefined;
      const user = this.serviceAccounts!.userOf(verified.sa);
      if (user) this.valid.set(token, { sa: verified.sa, until: verified.expiresAt });
      return user;
    }
    const rows = await this.db.query<{ username: string; groups: string[] }>(
      'SELECT username, groups FROM api_tokens WHERE token_hash = ?',
      [hashToken(token)],
    );
    if (!rows[0]) return undefined;
    const groups = rows[0].groups.includes(AUTHENTICATED_GROUP) ? rows[0].groups : [...rows[0].groups, AUTHENTICATED_GROUP];
    const user = { username: rows[0].username, groups };
    this.valid.set(token, { user, until: now + DATABASE_TOKEN_CACHE_MS });
    return user;
  }

  get cachedTokens(): number {
    return this.valid.size;
  }
}

function tokenKind(token: string): 'jwt' | 'opaque' | undefined {
  if (token.length <= MAX_JWT_LENGTH && JWT.test(token)) return 'jwt';
  return OPAQUE_TOKEN.test(token) ? 'opaque' : undefined;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when it has none. */
function bearerToken(header: string | undefined): string | undefined {
  if (!header || header.length > MAX_JWT_LENGTH + 7) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token || undefined;
}
