// A rack elevation: the rack's units from U1 at the bottom, each host drawn across the units
// it occupies with its phase (colour) and load (the bar: allocated of allocatable cpu).
import { html, svg } from 'lit';
import type { Baremetal } from '../../../src/kinds/baremetal.js';
import type { Rack } from '../../../src/kinds/rack.js';
import { hostUsage } from '../estate.js';
import { percent } from '../format.js';
import { t } from '../i18n.js';

const UNIT_PX = 16;
const WIDTH = 360;
const RAIL = 34;

const phaseColor: Record<string, string> = {
  Ready: '#16a34a',
  Maintenance: '#f59e0b',
  Offline: '#6b7280',
  Error: '#dc2626',
  Unknown: '#94a3b8',
};

export function rackElevation(rack: Rack, hosts: Baremetal[]) {
  const height = rack.spec.heightUnits ?? 42;
  const total = height * UNIT_PX;
  const y = (unit: number, units: number) => (height - (unit - 1) - units) * UNIT_PX;
  const used = hosts.reduce((n, h) => n + (h.spec.heightUnits ?? 1), 0);
  const title = t('elevationOf', { rack: rack.metadata.name! });
  const sorted = [...hosts].sort((a, b) => (b.spec.unit ?? 0) - (a.spec.unit ?? 0));
  return html`<figure class="elevation" data-rack=${rack.metadata.name!}>
    <figcaption>${title}<br />${t('unitsUsed', { used, height })}</figcaption>
    <svg viewBox="0 0 ${WIDTH} ${total + 2}" width=${WIDTH} height=${total + 2} role="group" aria-label=${title}>
      <rect x="0" y="0" width=${WIDTH} height=${total + 2} fill="#1e293b" rx="4"></rect>
      ${Array.from({ length: height }, (_, i) => {
        const unit = i + 1;
        return svg`<g class="unit">
          <text x=${RAIL - 6} y=${y(unit, 1) + UNIT_PX - 4} text-anchor="end" font-size="10" fill="#cbd5e1">U${unit}</text>
          <rect x=${RAIL} y=${y(unit, 1) + 1} width=${WIDTH - RAIL - 6} height=${UNIT_PX - 2} fill="#334155" rx="1"></rect>
        </g>`;
      })}
      ${sorted.map((h) => {
        const unit = h.spec.unit ?? 1;
        const units = h.spec.heightUnits ?? 1;
        const phase = h.status?.phase ?? 'Unknown';
        const u = hostUsage(h);
        const load = percent(u.used.cpu, u.total.cpu);
        const top = y(unit, units) + 1;
        const boxHeight = units * UNIT_PX - 2;
        const label = `${h.metadata.name}: U${unit}${units > 1 ? `–U${unit + units - 1}` : ''}, ${phase}, ${t('load')} ${load}%`;
        const barWidth = WIDTH - RAIL - 6 - 16;
        // Each host is a link to the VMs on it: reachable with the keyboard, read out by its label.
        return svg`<a href="#/vms?host=${encodeURIComponent(h.metadata.name!)}" aria-label=${label}><g class="host" data-host=${h.metadata.name!} data-unit=${unit} data-phase=${phase} aria-label=${label}>
          <title>${label}</title>
          <rect x=${RAIL} y=${top} width=${WIDTH - RAIL - 6} height=${boxHeight} fill="#e2e8f0" stroke=${phaseColor[phase] ?? '#94a3b8'} stroke-width="2" rx="2"></rect>
          <rect x=${RAIL} y=${top} width="6" height=${boxHeight} fill=${phaseColor[phase] ?? '#94a3b8'}></rect>
          <text x=${RAIL + 12} y=${top + Math.min(12, boxHeight - 3)} font-size="11" font-weight="600" fill="#0f172a">${h.metadata.name} · ${phase}</text>
          ${boxHeight >= 28
            ? svg`<rect x=${RAIL + 12} y=${top + boxHeight - 10} width=${barWidth} height="6" fill="#cbd5e1" rx="2"></rect>
                 <rect x=${RAIL + 12} y=${top + boxHeight - 10} width=${(barWidth * Math.min(load, 100)) / 100} height="6" fill="#2563eb" rx="2"></rect>`
            : svg`<text x=${WIDTH - 12} y=${top + 12} font-size="10" text-anchor="end" fill="#0f172a">${load}%</text>`}
        </g></a>`;
      })}
    </svg>
  </figure>`;
}
