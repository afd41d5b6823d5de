// The parameters of console endpoints, declared once: they check a request (query string for
// GET, JSON body for POST) and describe it in the console's OpenAPI document.
import { isDns1123Label, isDns1123Subdomain } from '../machinery/names.js';
import { consoleErrors } from './envelope.js';

export type ParamType = 'integer' | 'string' | 'boolean' | 'object';

export interface Param {
  name: string;
  type: ParamType;
  required?: boolean;
  description: string;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  /** Strings: a Kubernetes object name (DNS subdomain) or namespace (DNS label). */
  format?: 'name' | 'namespace' | 'url';
  default?: unknown;
}

export type Args = Record<string, unknown>;

const MAX_STRING = 256 * 1024;

function checkString(p: Param, value: string): string {
  if (value.length > MAX_STRING) throw consoleErrors.validation(`${p.name}: must be at most ${MAX_STRING} characters`);
  if (p.required && value === '') throw consoleErrors.validation(`${p.name}: must not be empty`);
  if (p.enum && !p.enum.includes(value)) throw consoleErrors.validation(`${p.name}: must be one of ${p.enum.join(', ')}, got "${value.slice(0, 100)}"`);
  if (p.format === 'namespace' && !isDns1123Label(value)) {
    throw consoleErrors.validation(`${p.name}: "${value.slice(0, 100)}" is not a valid namespace name (lower-case letters, digits and '-', at most 63 characters)`);
  }
  if (p.format === 'name' && !isDns1123Subdomain(value)) {
    throw consoleErrors.validation(`${p.name}: "${value.slice(0, 100)}" is not a valid name (lower-case letters, digits, '-' and '.', at most 253 characters)`);
  }
  if (p.format === 'url') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw consoleErrors.validation(`${p.name}: "${value.slice(0, 100)}" is not a URL`);
    }
    if (url.protocol !== 'https:') throw consoleErrors.validation(`${p.name}: must be an https:// URL, got "${url.protocol}"`);
  }
  return value;
}

function checkInteger(p: Param, value: unknown): number {
  const n = typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw consoleErrors.validation(`${p.name}: must be an integer, got ${JSON.stringify(value)?.slice(0, 100)}`);
  if (p.minimum !== undefined && n < p.minimum) throw consoleErrors.validation(`${p.name}: must be at least ${p.minimum}, got ${n}`);
  if (p.maximum !== undefined && n > p.maximum) throw consoleErrors.validation(`${p.name}: must be at most ${p.maximum}, got ${n}`);
  return n;
}

/** Checks and converts the arguments of one request against its declared parameters. */
export function parseArgs(params: readonly Param[], source: Record<string, unknown>): Args {
  const args: Args = {};
  for (const p of params) {
    const raw = source[p.name];
    if (raw === undefined || raw === null || raw === '') {
      if (p.required) throw consoleErrors.validation(`${p.name}: is required`);
      if (p.default !== undefined) args[p.name] = p.default;
      continue;
    }
    switch (p.type) {
      case 'integer':
        args[p.name] = checkInteger(p, raw);
        break;
      case 'boolean':
        if (raw === true || raw === 'true') args[p.name] = true;
        else if (raw === false || raw === 'false') args[p.name] = false;
        else throw consoleErrors.validation(`${p.name}: must be true or false`);
        break;
      case 'string':
        if (typeof raw !== 'string') throw consoleErrors.validation(`${p.name}: must be a string`);
        args[p.name] = checkString(p, raw);
        break;
      case 'object': {
        if (typeof raw !== 'object' || Array.isArray(raw)) throw consoleErrors.validation(`${p.name}: must be an object of strings`);
        const entries = Object.entries(raw as Record<string, unknown>);
        if (entries.length > 1000) throw consoleErrors.validation(`${p.name}: at most 1000 keys`);
        for (const [key, value] of entries) {
          if (typeof value !== 'string') throw consoleErrors.validation(`${p.name}.${key}: must be a string`);
          if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) throw consoleErrors.validation(`${p.name}: "${key.slice(0, 100)}" is not a valid key (letters, digits, '-', '_' and '.')`);
        }
        args[p.name] = raw;
        break;
      }
    }
  }
  return args;
}

export const common = {
  clusterId: { name: 'cluster_id', type: 'integer', required: true, minimum: 1, description: 'Cluster id (集群ID).' },
  namespace: { name: 'namespace', type: 'string', required: true, format: 'namespace', description: 'Namespace (命名空间).' },
  page: { name: 'page', type: 'integer', minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number (页码), from 1.' },
  perPage: { name: 'per_page', type: 'integer', minimum: 1, maximum: 500, default: 20, description: 'Items per page (每页数量).' },
  search: { name: 'search', type: 'string', description: 'Keyword (搜索关键词): items whose name contains it, case-insensitive.' },
} satisfies Record<string, Param>;

export function paginate<T>(items: T[], args: Args): { items: T[]; pagination: { page: number; per_page: number; total: number; pages: number } } {
  const page = Number(args.page ?? 1);
  const perPage = Number(args.per_page ?? 20);
  const total = items.length;
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    pagination: { page, per_page: perPage, total, pages: Math.max(1, Math.ceil(total / perPage)) },
  };
}

export function matchesSearch(name: string, args: Args): boolean {
  const search = typeof args.search === 'string' ? args.search.toLowerCase() : '';
  return search === '' || name.toLowerCase().includes(search);
}
