// Bearer-token authentication. Tokens live in the database (hashed), so every server replica
// over the same database accepts the same tokens. Authorization comes later; the seam is the
// UserInfo each request carries.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errors } from '../machinery/errors.js';
import type { Database } from '../store/database.js';
import type { UserInfo } from './object-service.js';

const CACHE_MS = 10_000;

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

export class TokenAuthenticator {
  private cache = new Map<string, { user: UserInfo | undefined; until: number }>();

  constructor(private readonly db: Database) {}

  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const header = req.headers.authorization;
    if (!header || !header.toLowerCase().startsWith('bearer ')) throw errors.unauthorized();
    const token = header.slice(7).trim();
    if (!token) throw errors.unauthorized();
    // Keyed by the token itself, which this process holds for the request anyway: hashing
    // it is only needed to ask the database.
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) {
      if (!hit.user) throw errors.unauthorized();
      return hit.user;
    }
    const rows = await this.db.query<{ username: string; groups: string[] }>(
      'SELECT username, groups FROM api_tokens WHERE token_hash = ?',
      [hashToken(token)],
    );
    const user = rows[0] ? { username: rows[0].username, groups: rows[0].groups } : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { user, until: now + CACHE_MS });
    if (!user) throw errors.unauthorized();
    return user;
  }
}
