// Reads a Kubernetes API path into what it addresses, as kube-apiserver's RequestInfoResolver
// does: /api/v1/namespaces/ns/configmaps/name/status, /apis/g/v/plural, ...
export interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

/** Parses the part after /api or /apis; undefined when it does not address a resource. */
export function parseResourcePath(prefix: 'api' | 'apis', segments: string[]): ResourceRequest | undefined {
  const parts = [...segments];
  let group = '';
  if (prefix === 'apis') {
    group = parts.shift() ?? '';
    if (!group) return undefined;
  }
  const version = parts.shift();
  if (!version) return undefined;
  let namespace: string | undefined;
  // "namespaces/<ns>/<resource>..." addresses namespaced objects; "namespaces" alone or
  // "namespaces/<name>[/status]" addresses the Namespace kind itself.
  if (parts[0] === 'namespaces' && parts.length >= 3 && !(parts.length === 3 && (parts[2] === 'status' || parts[2] === 'finalize'))) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const resource = parts.shift();
  if (!resource) return undefined;
  const name = parts.shift();
  const subresource = parts.shift();
  if (parts.length > 0) return undefined;
  return { group, version, namespace, resource, name, subresource };
}
