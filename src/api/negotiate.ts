// Content negotiation: plain JSON (or YAML), server-side Table output for kubectl, and
// PartialObjectMetadata for metadata-only clients, chosen from the Accept header in order.
import type { IncomingMessage } from 'node:http';
import { errors } from '../machinery/errors.js';

export type Representation =
  | { as: 'object'; format: 'json' | 'yaml' }
  | { as: 'table'; contentType: string }
  | { as: 'metadata'; contentType: string };

interface AcceptEntry {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string): AcceptEntry[] {
  return header
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [type, ...rest] = part.split(';');
      const params: Record<string, string> = {};
      for (const p of rest) {
        const [k, v] = p.split('=');
        if (k && v !== undefined) params[k.trim()] = v.trim();
      }
      return { type: type!.trim().toLowerCase(), params };
    });
}

export function negotiate(req: IncomingMessage): Representation {
  const header = req.headers.accept;
  if (!header) return { as: 'object', format: 'json' };
  const entries = parseAccept(header);
  for (const entry of entries) {
    const isJson = entry.type === 'application/json' || entry.type === '*/*' || entry.type === 'application/*';
    const as = entry.params.as;
    if (isJson && as === 'Table' && entry.params.g === 'meta.k8s.io' && (entry.params.v === 'v1' || entry.params.v === 'v1beta1')) {
      return { as: 'table', contentType: `application/json;as=Table;v=${entry.params.v};g=meta.k8s.io` };
    }
    if (isJson && (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && entry.params.g === 'meta.k8s.io') {
      return { as: 'metadata', contentType: `application/json;as=${as};v=${entry.params.v ?? 'v1'};g=meta.k8s.io` };
    }
    if (isJson && as === undefined) return { as: 'object', format: 'json' };
    if ((entry.type === 'application/yaml' || entry.type === 'text/yaml') && as === undefined) return { as: 'object', format: 'yaml' };
  }
  throw errors.notAcceptable(
    'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io',
  );
}

/** Aggregated discovery is asked for by media type parameters on /api and /apis. */
export function wantsAggregatedDiscovery(req: IncomingMessage): 'v2' | 'v2beta1' | undefined {
  const header = req.headers.accept;
  if (!header) return undefined;
  for (const entry of parseAccept(header)) {
    if (entry.params.as === 'APIGroupDiscoveryList' && entry.params.g === 'apidiscovery.k8s.io') {
      if (entry.params.v === 'v2') return 'v2';
      if (entry.params.v === 'v2beta1') return 'v2beta1';
    }
    if (entry.type === 'application/json' && !entry.params.as) return undefined;
  }
  return undefined;
}
