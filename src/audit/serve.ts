// GET and LIST of AuditEvents, straight from the audit_events table: the request has been
// authorized already (RBAC decides who reads which namespace's trail); this answers it as
// kube-apiserver answers a read-only resource, in JSON, YAML or as a Table for kubectl.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { buildTable } from '../crd/table.js';
import { errors } from '../machinery/errors.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import { negotiate } from '../api/negotiate.js';
import { includeObjectOf, queryInt } from '../api/query.js';
import type { ResourceRequest } from '../api/request-info.js';
import { sendJson, sendObject } from '../api/respond.js';
import { parseSelection } from '../api/selection.js';
import { auditPageSql, decodeAuditContinue, encodeAuditContinue, MAX_PAGE, parseId } from './query.js';
import { auditEventOf, auditEventsResource, type AuditEvent, type AuditRow } from './resource.js';

export function isAuditEvents(info: ResourceInfo): boolean {
  return info === auditEventsResource;
}

export async function serveAuditEvents(
  pool: pg.Pool,
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceRequest,
  verb: string,
  query: URLSearchParams,
): Promise<void> {
  const info = auditEventsResource;
  if (r.subresource) throw errors.notFound({ group: info.group, resource: `${info.plural}/${r.subresource}` }, r.name ?? '');
  if (verb === 'watch') {
    throw errors.methodNotAllowed('the audit trail cannot be watched: list it again to read newer events');
  }
  if (!info.verbs.includes(verb) || (r.namespace === undefined && verb !== 'list')) {
    throw errors.methodNotAllowed(info.refusal ?? 'the server does not allow this method on the requested resource');
  }
  const rep = negotiate(req);
  /** One event (a get) or a page of them (a list, with where the next page starts). */
  const send = (items: AuditEvent[], list: boolean, next?: string) => {
    const listMeta = next ? { continue: next } : {};
    if (rep.as === 'table') {
      sendJson(res, 200, buildTable(info, items, { includeObject: includeObjectOf(query), listMeta }), rep.contentType);
    } else if (rep.as === 'metadata') {
      const partial = items.map((e) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: e.metadata }));
      sendJson(res, 200, list ? { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: partial } : partial[0], rep.contentType);
    } else {
      sendObject(res, 200, list ? { kind: info.listKind, apiVersion: groupVersion(info), metadata: listMeta, items } : items[0], rep.format);
    }
  };

  if (verb === 'get') {
    const id = parseId(r.name!);
    const rows = id === undefined ? [] : await select(pool, { namespace: r.namespace, id, limit: 1 });
    if (rows.length === 0) throw errors.notFound({ group: info.group, resource: info.plural }, r.name!);
    send([auditEventOf(rows[0]!)], false);
    return;
  }

  const selection = parseSelection(info, query, r.namespace);
  const asked = queryInt(query, 'limit', { min: 0 });
  const limit = asked === undefined || asked === 0 ? MAX_PAGE : Math.min(asked, MAX_PAGE);
  const token = query.get('continue');
  const before = token ? decodeAuditContinue(token) : undefined;
  const rows = await select(pool, { namespace: selection.namespace, fields: selection.fields, labels: selection.labels, before, limit });
  const items = rows.slice(0, limit).map(auditEventOf);
  // More than a page matched: the next one starts below the last event shown.
  const last = rows[limit - 1];
  send(items, true, rows.length > limit && last ? encodeAuditContinue({ time: last.stage_timestamp, id: BigInt(last.id) }) : undefined);
}

async function select(pool: pg.Pool, q: Parameters<typeof auditPageSql>[0]): Promise<AuditRow[]> {
  const { text, values } = auditPageSql(q);
  return (await pool.query<AuditRow>(text, values)).rows;
}
