// Overview: capacity, allocation and free per region, data center, group and tenant; VMs by
// phase; what is failing now. Aggregated in memory from one list + watch per kind, and
// recomputed only when one of those caches changed.
import { html } from 'lit';
import type { Baremetal } from '../../../src/kinds/baremetal.js';
import type { BaremetalGroup } from '../../../src/kinds/baremetalgroup.js';
import type { ExternalController } from '../../../src/kinds/externalcontroller.js';
import type { TenantQuota } from '../../../src/kinds/tenantquota.js';
import type { VirtualMachine } from '../../../src/kinds/virtualmachine.js';
import { palette } from '../components.js';
import {
  capacityBreakdown,
  falseConditions,
  quotasUnderPressure,
  resourceKeys,
  unreachableControllers,
  unschedulable,
  vmPhases,
  vmsByPhase,
  type CapacityBreakdown,
  type ResourceKey,
  type Usage,
} from '../estate.js';
import { amount, chartScale, percent } from '../format.js';
import { formatNumber, t, type MessageKey } from '../i18n.js';
import { Page } from '../page.js';
import { R } from '../resources.js';

interface Figures {
  capacity: CapacityBreakdown;
  phases: Map<string, number>;
  failing: ReturnType<typeof falseConditions>;
  unschedulable: ReturnType<typeof unschedulable>;
  unreachable: ExternalController[];
  pressure: ReturnType<typeof quotasUnderPressure>;
  vmCount: number;
}

export class Overview extends Page {
  static override properties = { resource: { state: true } };
  declare resource: ResourceKey;
  protected readonly uses = [R.virtualmachines, R.baremetals, R.baremetalgroups, R.tenantquotas, R.externalcontrollers];

  constructor() {
    super();
    this.resource = 'cpu';
  }

  /** Aggregates, each recomputed only when one of its own caches changed. */
  private figures(): Figures {
    const vms = this.informer<VirtualMachine>(R.virtualmachines);
    const hosts = this.informer<Baremetal>(R.baremetals);
    const groups = this.informer<BaremetalGroup>(R.baremetalgroups);
    const quotas = this.informer<TenantQuota>(R.tenantquotas);
    const xcs = this.informer<ExternalController>(R.externalcontrollers);
    const vmPart = this.memoized('vms', [vms], () => ({
      phases: vmsByPhase(vms.items.values()),
      failing: falseConditions(vms.items.values()),
      unschedulable: unschedulable(vms.items.values()),
      vmCount: vms.items.size,
    }));
    const inventoryPart = this.memoized('inventory', [hosts, groups, quotas, xcs], () => ({
      capacity: capacityBreakdown(hosts.items.values(), groups.items.values(), quotas.items.values()),
      failing: falseConditions([...hosts.items.values(), ...groups.items.values(), ...quotas.items.values(), ...xcs.items.values()]),
      unreachable: unreachableControllers(xcs.items.values()),
      pressure: quotasUnderPressure(quotas.items.values()),
    }));
    return { ...vmPart, ...inventoryPart, failing: [...inventoryPart.failing, ...vmPart.failing].sort((a, b) => b.count - a.count) };
  }

  private readonly memo = new Map<string, { key: string; value: unknown }>();

  private memoized<T>(name: string, sources: { revision: number }[], compute: () => T): T {
    const key = sources.map((s) => s.revision).join('.');
    const hit = this.memo.get(name);
    if (hit?.key === key) return hit.value as T;
    const value = compute();
    this.memo.set(name, { key, value });
    return value;
  }

  protected override updated(): void {
    // For the benchmark and the curious: when the overview first had every list and drew it.
    if (this.synced && performance.getEntriesByName('vf:overview-ready').length === 0) performance.mark('vf:overview-ready');
  }

  override render() {
    const f = this.figures();
    const r = this.resource;
    const { divisor, unit } = chartScale(r);
    const chart = (what: MessageKey, map: Map<string, Usage>, usedLabel = t('allocated'), freeLabel = t('free')) => {
      const labels = [...map.keys()].sort();
      return html`<vf-bar-chart
        .caption=${t('capacityBy', { what: t(what) })}
        .unit=${unit}
        .labels=${labels}
        .series=${[
          { label: usedLabel, color: palette.used, values: labels.map((l) => map.get(l)!.used[r] / divisor) },
          { label: freeLabel, color: palette.free, values: labels.map((l) => Math.max(0, map.get(l)!.total[r] - map.get(l)!.used[r]) / divisor) },
        ]}
      ></vf-bar-chart>`;
    };
    const phaseLabels = vmPhases.filter((p) => f.phases.has(p));
    const ready = this.synced;
    return html`<section class="page overview" data-ready=${ready ? 'true' : 'false'}>
      <h1 tabindex="-1">${t('navOverview')}</h1>
      ${this.uses.map((ref) => this.notice(ref))}
      <div class="cards" role="list" aria-label=${t('totals')}>
        ${resourceKeys.map((k) => {
          const e = f.capacity.estate;
          return html`<div class="card stat" role="listitem">
            <h2>${t(k)}</h2>
            <p class="big">${amount(k, Math.max(0, e.total[k] - e.used[k]))} <small>${t('free')}</small></p>
            <p>${t('allocated')} ${amount(k, e.used[k])} / ${t('allocatable')} ${amount(k, e.total[k])} (${percent(e.used[k], e.total[k])}%)</p>
          </div>`;
        })}
        <div class="card stat" role="listitem">
          <h2>${t('vms')}</h2>
          <p class="big" data-testid="vm-count">${formatNumber(f.vmCount)}</p>
          <p>${formatNumber(f.phases.get('Running') ?? 0)} Running</p>
        </div>
      </div>

      <div class="resource-switch" role="group" aria-label=${t('resource')}>
        ${resourceKeys.map(
          (k) => html`<button type="button" aria-pressed=${this.resource === k ? 'true' : 'false'} @click=${() => (this.resource = k)}>${t(k)}</button>`,
        )}
      </div>
      <div class="grid charts">
        <div class="card">${chart('byRegion', f.capacity.byRegion)}</div>
        <div class="card">${chart('byDatacenter', f.capacity.byDatacenter)}</div>
        <div class="card">${chart('byGroup', f.capacity.byGroup)}</div>
        <div class="card">${chart('byTenant', f.capacity.byTenant, t('used'), t('remaining'))}</div>
      </div>

      <div class="grid two">
        <div class="card">
          <vf-doughnut-chart
            .caption=${t('vmsByPhase')}
            .labels=${phaseLabels}
            .values=${phaseLabels.map((p) => f.phases.get(p) ?? 0)}
            .colors=${phaseLabels.map((p) => palette.phase[p] ?? '#999')}
          ></vf-doughnut-chart>
          <ul class="phase-list">
            ${phaseLabels.map((p) => html`<li><a href="#/vms?phase=${p}" data-phase=${p}>${p}</a>: <strong>${formatNumber(f.phases.get(p) ?? 0)}</strong></li>`)}
          </ul>
        </div>
        <div class="card failing">
          <h2>${t('failingNow')}</h2>
          ${this.renderFailing(f)}
        </div>
      </div>
    </section>`;
  }

  private renderFailing(f: Figures) {
    const nothingWrong = f.failing.length === 0 && f.unschedulable.vms.length === 0 && f.unreachable.length === 0 && f.pressure.length === 0;
    if (nothingWrong) return html`<p class="ok">${t('nothingFailing')}</p>`;
    const reasons = [...f.unschedulable.reasons].sort((a, b) => b[1] - a[1]);
    return html`
      ${f.unschedulable.vms.length > 0
        ? html`<section aria-labelledby="unsched" class="unschedulable">
            <h3 id="unsched">${t('unschedulableVms')} (${formatNumber(f.unschedulable.vms.length)})</h3>
            <ul>
              ${f.unschedulable.vms.slice(0, 8).map(
                (vm) => html`<li><a href="#/vms/${vm.metadata.namespace}/${vm.metadata.name}">${vm.metadata.namespace}/${vm.metadata.name}</a></li>`,
              )}
            </ul>
            <h4>${t('unschedulableReasons')}</h4>
            <table class="compact reasons">
              <tbody>
                ${reasons.map(([reason, n]) => html`<tr><td class="num">${formatNumber(n)}</td><td>${reason}</td></tr>`)}
              </tbody>
            </table>
          </section>`
        : ''}
      ${f.unreachable.length > 0
        ? html`<section aria-labelledby="unreach">
            <h3 id="unreach">${t('unreachableControllers')}</h3>
            <ul>
              ${f.unreachable.map((xc) => html`<li>${xc.metadata.name} <code>${xc.spec.endpoint}</code></li>`)}
            </ul>
          </section>`
        : ''}
      ${f.pressure.length > 0
        ? html`<section aria-labelledby="pressure">
            <h3 id="pressure">${t('quotasNearLimit')}</h3>
            <ul>
              ${f.pressure.slice(0, 10).map(
                (p) => html`<li>
                  <a href="#/tenants/${p.quota.spec.tenant}">${p.quota.metadata.name}</a> ${t(p.resource)}:
                  ${amount(p.resource, p.used)} / ${amount(p.resource, p.limit)}
                  <span class="badge ${p.fraction >= 1 ? 'bad' : 'warn'}">${p.fraction >= 1 ? t('overLimit') : t('nearLimit')}</span>
                </li>`,
              )}
            </ul>
          </section>`
        : ''}
      ${f.failing.length > 0
        ? html`<section aria-labelledby="conds">
            <h3 id="conds">${t('conditionsFalse')}</h3>
            <table class="compact">
              <thead><tr><th>${t('kind')}</th><th>${t('type')}</th><th>${t('reason')}</th><th>${t('count')}</th><th>${t('object')}</th></tr></thead>
              <tbody>
                ${f.failing.slice(0, 12).map(
                  (c) => html`<tr>
                    <td>${c.kind}</td><td>${c.type}</td><td>${c.reason}</td><td class="num">${formatNumber(c.count)}</td>
                    <td title=${c.examples[0]?.message ?? ''}>${c.examples.map((e) => e.key).join(', ')}${c.count > c.examples.length ? ', …' : ''}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </section>`
        : ''}
    `;
  }
}
customElements.define('vf-overview', Overview);
