// Names for VMs created with generateName in a tenant's namespace, from the tenant's
// vmNameTemplate, e.g. "{tenant}-{role}-{index}" -> "acme-worker-3".
import type { NameGenerator } from '../api/object-service.js';
import type { KubeObject } from '../machinery/object.js';
import type { WatchCache } from '../store/watch-cache.js';
import { tenantOwningNamespace } from './tenancy.js';

const VM_RESOURCE = 'virtflow.io/virtualmachines';

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function vmNameTemplateGenerator(cache: WatchCache): NameGenerator {
  // Indexes handed out by this process but maybe not yet in the cache.
  const handedOut = new Map<string, number>();
  return (info, obj: KubeObject, attempt) => {
    if (info.group !== 'virtflow.io' || info.plural !== 'virtualmachines') return undefined;
    const namespace = obj.metadata.namespace ?? '';
    const tenant = tenantOwningNamespace(cache, namespace);
    const template = tenant?.spec?.vmNameTemplate;
    if (!tenant || !template) return undefined;
    const spec = (obj.spec ?? {}) as { role?: string; cluster?: string };
    const values: Record<string, string> = {
      tenant: tenant.metadata.name ?? '',
      namespace,
      role: (spec.role ?? 'Standalone').toLowerCase(),
      cluster: spec.cluster ?? '',
      prefix: String(obj.metadata.generateName ?? '').replace(/-$/, ''),
    };
    const [before, after] = render(template, values).split('{index}') as [string, string | undefined];
    if (after === undefined) return `${before}-${attempt + 1}`;
    const pattern = new RegExp(`^${escapeRegExp(before)}(\\d+)${escapeRegExp(after)}$`);
    let highest = 0;
    for (const entry of cache.list(VM_RESOURCE, namespace)) {
      const match = pattern.exec(entry.name);
      if (match) highest = Math.max(highest, Number(match[1]));
    }
    const key = `${namespace}/${before}{index}${after}`;
    const next = Math.max(highest, handedOut.get(key) ?? 0) + 1 + attempt;
    handedOut.set(key, next);
    return `${before}${next}${after}`.toLowerCase();
  };
}
