// ServiceAccount tokens: signed, expiring JWTs shaped like Kubernetes' bound tokens. The
// signing key is made once and kept in the database, so every replica over it issues and
// accepts the same tokens. A token is checked without a database round trip: the
// signature and expiry by jose, and the ServiceAccount it names (still there, same uid) in
// the store's cache, so deleting the ServiceAccount ends all its tokens at once.
import { randomUUID } from 'node:crypto';
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import type { UserInfo } from '../api/object-service.js';
import type { WatchCache } from '../store/watch-cache.js';
import type { Database } from '../store/database.js';
import { AUTHENTICATED_GROUP, serviceAccountUsername } from './rbac-rules.js';

/** Kubernetes' default issuer and API audience, so clients that look at them are not surprised. */
export const TOKEN_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCE = TOKEN_ISSUER;
export const SERVICE_ACCOUNT_RESOURCE = '/serviceaccounts';
const KEY_SETTING = 'serviceaccount_signing_key';
const ALGORITHM = 'ES256';

/** TokenRequest's bounds: Kubernetes' minimum of 10 minutes and default of one hour. */
export const MIN_EXPIRATION_SECONDS = 600;
export const DEFAULT_EXPIRATION_SECONDS = 3600;

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: string;
}

interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
}

export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED_GROUP];
}

export class ServiceAccountTokens {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly cache: WatchCache,
    private readonly clock: () => number,
  ) {}

  /** Loads the signing key, making it on first use; replicas racing agree on the first one stored. */
  static async open(db: Database, cache: WatchCache, clock: () => number = Date.now): Promise<ServiceAccountTokens> {
    let rows = await db.query<{ value: string }>('SELECT value FROM store_settings WHERE name = ?', [KEY_SETTING]);
    if (!rows[0]) {
      const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
      const value = JSON.stringify({ private: await exportPKCS8(privateKey), public: await exportSPKI(publicKey) });
      await db.query('INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [KEY_SETTING, value]);
      rows = await db.query<{ value: string }>('SELECT value FROM store_settings WHERE name = ?', [KEY_SETTING]);
    }
    const stored = JSON.parse(rows[0]!.value) as { private: string; public: string };
    return new ServiceAccountTokens(await importPKCS8(stored.private, ALGORITHM), await importSPKI(stored.public, ALGORITHM), cache, clock);
  }

  async issue(sa: ServiceAccountRef, opts: { expirationSeconds?: number; audiences?: string[] } = {}): Promise<IssuedToken> {
    const now = Math.floor(this.clock() / 1000);
    const exp = now + (opts.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS);
    const claim: KubernetesClaim = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } };
    const token = await new SignJWT({ 'kubernetes.io': claim })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(serviceAccountUsername(sa.namespace, sa.name))
      .setAudience(opts.audiences && opts.audiences.length > 0 ? opts.audiences : [API_AUDIENCE])
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return { token, expirationTimestamp: `${new Date(exp * 1000).toISOString().slice(0, 19)}Z` };
  }

  /**
   * The signature, issuer, audience and expiry of a JWT: what a token claims, with the
   * instant it stops being valid; undefined for anything not issued here.
   */
  async verify(token: string): Promise<{ sa: ServiceAccountRef; expiresAt: number } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: TOKEN_ISSUER,
        audience: API_AUDIENCE,
        algorithms: [ALGORITHM],
        currentDate: new Date(this.clock()),
      });
      const claim = payload['kubernetes.io'] as KubernetesClaim | undefined;
      const name = claim?.serviceaccount?.name;
      const uid = claim?.serviceaccount?.uid;
      const namespace = claim?.namespace;
      if (typeof name !== 'string' || typeof uid !== 'string' || typeof namespace !== 'string') return undefined;
      if (payload.sub !== serviceAccountUsername(namespace, name) || typeof payload.exp !== 'number') return undefined;
      return { sa: { namespace, name, uid }, expiresAt: payload.exp * 1000 };
    } catch {
      return undefined;
    }
  }

  /** The user a verified token stands for, while its ServiceAccount exists with the same uid. */
  userOf(sa: ServiceAccountRef): UserInfo | undefined {
    const entry = this.cache.get(SERVICE_ACCOUNT_RESOURCE, `${SERVICE_ACCOUNT_RESOURCE}/${sa.namespace}/${sa.name}`);
    if (!entry || entry.object.metadata.uid !== sa.uid || entry.object.metadata.deletionTimestamp) return undefined;
    return {
      username: serviceAccountUsername(sa.namespace, sa.name),
      groups: serviceAccountGroups(sa.namespace),
      uid: sa.uid,
    };
  }

  now(): number {
    return this.clock();
  }
}
