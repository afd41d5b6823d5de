// Tenants and quotas: usage bars per quota (used / limit, percent and absolute), the
// tenant's VMs and clusters, suspend and resume.
import { html } from 'lit';
import type { K8sCluster } from '../../../src/kinds/k8scluster.js';
import type { Tenant } from '../../../src/kinds/tenant.js';
import type { TenantQuota } from '../../../src/kinds/tenantquota.js';
import type { VirtualMachine } from '../../../src/kinds/virtualmachine.js';
import { api } from '../api.js';
import { phaseBadge, usageBar } from '../components.js';
import { amounts, resourceKeys } from '../estate.js';
import { amount } from '../format.js';
import { formatNumber, t } from '../i18n.js';
import { actionError, Page } from '../page.js';
import { objectPath, R } from '../resources.js';

export class Tenants extends Page {
  static override properties = { selected: { attribute: false }, error: { state: true }, busy: { state: true } };
  declare selected: string;
  declare error: string;
  declare busy: boolean;
  protected readonly uses = [R.tenants, R.tenantquotas, R.virtualmachines, R.k8sclusters];

  constructor() {
    super();
    this.selected = '';
    this.error = '';
    this.busy = false;
  }

  override render() {
    const tenants = this.informer<Tenant>(R.tenants).list().sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const quotas = this.informer<TenantQuota>(R.tenantquotas).list();
    const vmCount = new Map<string, number>();
    for (const vm of this.informer<VirtualMachine>(R.virtualmachines).items.values()) {
      vmCount.set(vm.metadata.namespace!, (vmCount.get(vm.metadata.namespace!) ?? 0) + 1);
    }
    const tenant = tenants.find((x) => x.metadata.name === this.selected) ?? (tenants.length > 0 && !this.selected ? tenants[0] : undefined);
    return html`<section class="page tenants">
      <h1 tabindex="-1">${t('navTenants')}</h1>
      ${this.uses.map((ref) => this.notice(ref))}
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : ''}
      <div class="grid sidebar">
        <div class="card">
          <h2>${t('tenants')}</h2>
          <ul class="picker">
            ${tenants.map(
              (x) => html`<li>
                <a href="#/tenants/${x.metadata.name}" aria-current=${x === tenant ? 'true' : 'false'}>
                  <strong>${x.spec.displayName || x.metadata.name}</strong>
                  <span class="muted">${x.metadata.name} · ${formatNumber(vmCount.get(x.status?.namespace ?? x.spec.namespace ?? x.metadata.name!) ?? 0)} VMs</span>
                  ${x.spec.suspended ? html`<span class="badge bad">${t('suspended')}</span>` : ''}
                </a>
              </li>`,
            )}
          </ul>
        </div>
        ${tenant ? this.renderTenant(tenant, quotas.filter((q) => q.spec.tenant === tenant.metadata.name)) : ''}
      </div>
    </section>`;
  }

  private renderTenant(tenant: Tenant, quotas: TenantQuota[]) {
    const ns = tenant.status?.namespace ?? tenant.spec.namespace ?? tenant.metadata.name!;
    const vms = this.informer<VirtualMachine>(R.virtualmachines).list().filter((vm) => vm.metadata.namespace === ns);
    const clusters = this.informer<K8sCluster>(R.k8sclusters).list().filter((c) => c.metadata.namespace === ns);
    const suspended = tenant.spec.suspended === true;
    return html`<div class="card tenant" data-tenant=${tenant.metadata.name!}>
      <div class="title-row">
        <h2>${tenant.spec.displayName || tenant.metadata.name} <span class="badge ${suspended ? 'bad' : 'good'}">${tenant.status?.phase ?? (suspended ? t('suspended') : t('active'))}</span></h2>
        <button type="button" ?disabled=${this.busy} @click=${() => this.setSuspended(tenant, !suspended)}>${suspended ? t('resume') : t('suspend')}</button>
      </div>
      <p class="muted">${tenant.spec.description ?? ''} · ${t('namespace')} ${ns}</p>
      <h3>${t('quotas')}</h3>
      ${quotas.length === 0 ? html`<p class="notice">${t('noQuota')}</p>` : ''}
      ${quotas.map((q) => {
        const limits = amounts(q.status?.limits);
        const used = amounts(q.status?.used);
        const stated = (q.status?.limits ?? q.spec.limits ?? {}) as Record<string, unknown>;
        return html`<div class="quota" data-quota=${q.metadata.name!}>
          <h4>${q.metadata.name} <span class="muted">${t('group')} ${q.spec.group}</span></h4>
          ${resourceKeys.filter((k) => stated[k] !== undefined).map((k) => usageBar(t(k), used[k], limits[k], (n) => amount(k, n)))}
        </div>`;
      })}
      <h3>${t('vms')} (${vms.length})</h3>
      <table class="compact">
        <thead><tr><th>${t('name')}</th><th>${t('phase')}</th><th>${t('host')}</th><th>${t('specification')}</th></tr></thead>
        <tbody>
          ${vms.slice(0, 50).map(
            (vm) => html`<tr><td><a href="#/vms/${vm.metadata.namespace}/${vm.metadata.name}">${vm.metadata.name}</a></td><td>${phaseBadge(vm.status?.phase)}</td><td>${vm.status?.placement?.baremetal ?? '—'}</td><td>${vm.spec.specification}</td></tr>`,
          )}
        </tbody>
      </table>
      ${vms.length > 50 ? html`<p><a href="#/vms?namespace=${ns}">${t('vms')} →</a></p>` : ''}
      <h3>${t('clusters')} (${clusters.length})</h3>
      <ul>
        ${clusters.map((c) => html`<li><a href="#/clusters">${c.metadata.name}</a> ${c.spec.version} · ${c.status?.phase ?? 'Pending'}</li>`)}
      </ul>
    </div>`;
  }

  private async setSuspended(tenant: Tenant, suspended: boolean): Promise<void> {
    this.busy = true;
    try {
      await api.mergePatch(objectPath(R.tenants, tenant.metadata.name!), { spec: { suspended } });
      this.error = '';
    } catch (err) {
      this.error = actionError(err);
    } finally {
      this.busy = false;
    }
  }
}
customElements.define('vf-tenants', Tenants);
