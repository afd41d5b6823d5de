// The requests about oneself that are answered, never stored: SelfSubjectAccessReview
// (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i --list`),
// SelfSubjectReview (`kubectl auth whoami`), and TokenRequest (`kubectl create token`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeDocument, mediaType, readBody } from '../api/body.js';
import type { ObjectService, UserInfo } from '../api/object-service.js';
import type { ResourceRequest } from '../api/request-info.js';
import { sendJson } from '../api/respond.js';
import { errors } from '../machinery/errors.js';
import { isPlainObject } from '../machinery/object.js';
import type { ResourceInfo } from '../machinery/resource.js';
import type { Authorizer } from './authorizer.js';
import { MASTERS_GROUP, type Attributes, type PolicyRule } from './rbac-rules.js';
import { API_AUDIENCE, MIN_EXPIRATION_SECONDS, DEFAULT_EXPIRATION_SECONDS, type ServiceAccountTokens } from './service-account-tokens.js';

export interface ReviewContext {
  authorizer: Authorizer;
  tokens: ServiceAccountTokens;
  service: ObjectService;
}

/** Is this one of the requests serveAuthRequest answers? Cheap: asked of every request. */
export function isAuthRequest(info: ResourceInfo, r: ResourceRequest): boolean {
  return r.subresource === 'token' ? info.group === '' && info.plural === 'serviceaccounts' : info.verbs.length === 1 && handlers[`${info.group}/${info.plural}`] !== undefined;
}

/** Answers the request when it is one of these; false lets the ordinary handler serve it. */
export async function serveAuthRequest(
  ctx: ReviewContext,
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceRequest,
  info: ResourceInfo,
  user: UserInfo,
): Promise<boolean> {
  const kind = `${info.group}/${info.plural}${r.subresource ? `/${r.subresource}` : ''}`;
  const handler = handlers[kind];
  if (!handler) return false;
  if (req.method !== 'POST' || (r.name && !r.subresource)) {
    throw errors.methodNotAllowed(`only create (POST) is allowed on ${info.plural}${r.subresource ? `/${r.subresource}` : ''}`);
  }
  const body = decodeDocument(await readBody(req), mediaType(req));
  if (!isPlainObject(body)) throw errors.badRequest('the request body must be an object');
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const answer = await handler(ctx, { r, user, spec });
  sendJson(res, 201, answer);
  return true;
}

type Handler = (ctx: ReviewContext, req: { r: ResourceRequest; user: UserInfo; spec: Record<string, unknown> }) => Promise<unknown> | unknown;

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

const handlers: Record<string, Handler> = {
  'authorization.k8s.io/selfsubjectaccessreviews': (ctx, { user, spec }) => {
    const resource = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    const nonResource = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
    if (!resource === !nonResource) {
      throw errors.invalid('SelfSubjectAccessReview', 'authorization.k8s.io', '', [
        { type: 'FieldValueRequired', field: 'spec.resourceAttributes', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' },
      ]);
    }
    const attrs: Attributes = resource
      ? {
          user,
          verb: str(resource.verb),
          resourceRequest: true,
          apiGroup: str(resource.group),
          resource: str(resource.resource),
          subresource: str(resource.subresource),
          namespace: str(resource.namespace),
          name: str(resource.name),
          path: '',
        }
      : { user, verb: str(nonResource!.verb), resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path: str(nonResource!.path) };
    const decision = ctx.authorizer.decide(attrs);
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
    };
  },

  'authorization.k8s.io/selfsubjectrulesreviews': (ctx, { user, spec }) => {
    const namespace = str(spec.namespace);
    const rules: PolicyRule[] = user.groups.includes(MASTERS_GROUP)
      ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }]
      : ctx.authorizer.rbac.rulesFor(user, namespace || undefined).map((s) => s.rule);
    const resourceRules = rules
      .filter((rule) => (rule.resources ?? []).length > 0)
      .map((rule) => ({
        verbs: rule.verbs,
        apiGroups: rule.apiGroups ?? [],
        resources: rule.resources ?? [],
        ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}),
      }));
    const nonResourceRules = rules
      .filter((rule) => (rule.nonResourceURLs ?? []).length > 0)
      .map((rule) => ({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs }));
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: { creationTimestamp: null },
      spec: { namespace },
      status: { resourceRules, nonResourceRules, incomplete: false },
    };
  },

  'authentication.k8s.io/selfsubjectreviews': (_ctx, { user }) => ({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
    metadata: { creationTimestamp: null },
    status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups } },
  }),

  '/serviceaccounts/token': async (ctx, { r, spec }) => {
    const info = ctx.service.registry.lookup('', 'v1', 'serviceaccounts')!;
    const sa = await ctx.service.get(info, r.namespace, r.name!);
    const requested = spec.expirationSeconds;
    if (requested !== undefined && (typeof requested !== 'number' || !Number.isSafeInteger(requested) || requested < MIN_EXPIRATION_SECONDS)) {
      throw errors.invalid('TokenRequest', 'authentication.k8s.io', r.name!, [
        { type: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(requested)}: may not specify a duration less than ${MIN_EXPIRATION_SECONDS / 60} minutes` },
      ]);
    }
    const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
    if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
      throw errors.badRequest('spec.boundObjectRef is not supported: VirtFlow ends a token by deleting its ServiceAccount');
    }
    const expirationSeconds = (requested as number | undefined) ?? DEFAULT_EXPIRATION_SECONDS;
    const issued = await ctx.tokens.issue(
      { namespace: r.namespace!, name: r.name!, uid: sa.metadata.uid! },
      { expirationSeconds, audiences },
    );
    return {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: r.name, namespace: r.namespace, creationTimestamp: null },
      spec: { audiences: audiences.length > 0 ? audiences : [API_AUDIENCE], expirationSeconds, boundObjectRef: null },
      status: issued,
    };
  },
};
