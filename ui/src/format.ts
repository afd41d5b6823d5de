// Figures as people read them: cores as counts, bytes in binary units, ages as "5m".
import type { ResourceKey } from './estate.js';
import { formatNumber, t } from './i18n.js';

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(n: number): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${formatNumber(v, v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

export function amount(resource: ResourceKey, n: number): string {
  if (resource === 'memory' || resource === 'storage') return humanBytes(n);
  return formatNumber(n);
}

/** The unit a chart's axis counts in: GiB for memory, TiB for storage. */
export function chartScale(resource: ResourceKey): { divisor: number; unit: string } {
  if (resource === 'memory') return { divisor: 1024 ** 3, unit: 'GiB' };
  if (resource === 'storage') return { divisor: 1024 ** 4, unit: 'TiB' };
  return { divisor: 1, unit: resource === 'cpu' ? t('cores') : 'GPU' };
}

export function percent(used: number, total: number): number {
  if (total <= 0) return used > 0 ? 100 : 0;
  return Math.round((used / total) * 100);
}

export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
