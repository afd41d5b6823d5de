// Inventory: data centers -> rooms -> racks, a rack's elevation, hosts with filters, and
// groups with allocatable against allocated.
import { html } from 'lit';
import type { Baremetal } from '../../../src/kinds/baremetal.js';
import type { BaremetalGroup } from '../../../src/kinds/baremetalgroup.js';
import type { Datacenter } from '../../../src/kinds/datacenter.js';
import type { Rack } from '../../../src/kinds/rack.js';
import { pageOf, pager, usageBar } from '../components.js';
import { amounts, hostUsage, resourceKeys } from '../estate.js';
import { amount, humanBytes } from '../format.js';
import { t } from '../i18n.js';
import { Page } from '../page.js';
import { R } from '../resources.js';
import { rackElevation } from './rack-elevation.js';

const PAGE = 25;

export class Inventory extends Page {
  static override properties = {
    rack: { attribute: false },
    state: { state: true },
    group: { state: true },
    minCpu: { state: true },
    minMemory: { state: true },
    label: { state: true },
    page: { state: true },
  };
  declare rack: string;
  declare state: string;
  declare group: string;
  declare minCpu: number;
  declare minMemory: number;
  declare label: string;
  declare page: number;
  protected readonly uses = [R.datacenters, R.racks, R.baremetals, R.baremetalgroups];

  constructor() {
    super();
    this.rack = '';
    this.state = '';
    this.group = '';
    this.minCpu = 0;
    this.minMemory = 0;
    this.label = '';
    this.page = 0;
  }

  override render() {
    const dcs = this.informer<Datacenter>(R.datacenters).list().sort(byName);
    const racks = this.informer<Rack>(R.racks).list().sort(byName);
    const hosts = this.informer<Baremetal>(R.baremetals).list().sort(byName);
    const groups = this.informer<BaremetalGroup>(R.baremetalgroups).list().sort(byName);
    const chosen = racks.find((r) => r.metadata.name === this.rack);
    return html`<section class="page inventory">
      <h1 tabindex="-1">${t('navInventory')}</h1>
      ${this.uses.map((ref) => this.notice(ref))}
      <div class="layout">
        <div class="card">
          <h2>${t('datacenters')}</h2>
          ${this.renderTree(dcs, racks, hosts)}
          ${chosen ? this.renderRackFacts(chosen, hosts.filter((h) => h.spec.rack === chosen.metadata.name)) : ''}
        </div>
        <div class="card">
          <h2>${t('elevation')}</h2>
          ${chosen ? rackElevation(chosen, hosts.filter((h) => h.spec.rack === chosen.metadata.name)) : html`<p>${t('chooseRack')}</p>`}
        </div>
      </div>
      <div class="card">
        <h2>${t('hosts')}</h2>
        ${this.renderHosts(hosts, groups)}
      </div>
      <div class="card">
        <h2>${t('groups')}</h2>
        ${this.renderGroups(groups)}
      </div>
    </section>`;
  }

  private renderTree(dcs: Datacenter[], racks: Rack[], hosts: Baremetal[]) {
    const hostsPerRack = new Map<string, number>();
    for (const h of hosts) hostsPerRack.set(h.spec.rack, (hostsPerRack.get(h.spec.rack) ?? 0) + 1);
    return html`<ul class="tree" aria-label=${t('datacenters')}>
      ${dcs.map((dc) => {
        const dcRacks = racks.filter((r) => r.spec.datacenter === dc.metadata.name);
        const rooms = [...new Set(dcRacks.map((r) => r.spec.room ?? '—'))].sort();
        return html`<li>
          <strong>${dc.metadata.name}</strong>
          <span class="muted">${t('region')} ${dc.spec.region}${dc.spec.building ? html` · ${t('building')} ${dc.spec.building}` : ''}${dc.spec.phase ? html` · ${t('sitePhase')} ${dc.spec.phase}` : ''}</span>
          <ul>
            ${rooms.map(
              (room) => html`<li>
                ${t('room')} ${room}
                <ul>
                  ${dcRacks
                    .filter((r) => (r.spec.room ?? '—') === room)
                    .map(
                      (r) => html`<li>
                        <a href="#/inventory/rack/${r.metadata.name}" aria-current=${r.metadata.name === this.rack ? 'true' : 'false'}>${r.metadata.name}</a>
                        <span class="muted">${hostsPerRack.get(r.metadata.name!) ?? 0} ${t('hosts').toLowerCase()} · ${r.spec.heightUnits ?? 42}U${r.spec.state && r.spec.state !== 'Active' ? ` · ${r.spec.state}` : ''}</span>
                      </li>`,
                    )}
                </ul>
              </li>`,
            )}
          </ul>
        </li>`;
      })}
    </ul>`;
  }

  private renderRackFacts(rack: Rack, hosts: Baremetal[]) {
    return html`<div class="rack-facts">
      <h3>${t('rack')} ${rack.metadata.name}</h3>
      <dl class="facts">
        <dt>${t('datacenter')}</dt><dd>${rack.spec.datacenter}</dd>
        <dt>${t('room')}</dt><dd>${rack.spec.room ?? '—'}</dd>
        <dt>BGP ASN</dt><dd>${rack.spec.bgpAsn ?? '—'}</dd>
        <dt>${t('state')}</dt><dd>${rack.spec.state ?? 'Active'}</dd>
        <dt>${t('tenants')}</dt><dd>${(rack.spec.allowedTenants ?? []).join(', ') || t('all')}</dd>
      </dl>
      <table class="compact rack-hosts">
        <thead><tr><th>${t('unit')}</th><th>${t('host')}</th><th>${t('phase')}</th><th>${t('load')}</th></tr></thead>
        <tbody>
          ${[...hosts]
            .sort((a, b) => (b.spec.unit ?? 0) - (a.spec.unit ?? 0))
            .map((h) => {
              const u = hostUsage(h);
              return html`<tr><td>U${h.spec.unit ?? '?'}</td><td>${h.metadata.name}</td><td>${h.status?.phase ?? 'Unknown'}</td><td>${usageBar(t('cpu'), u.used.cpu, u.total.cpu, String)}</td></tr>`;
            })}
        </tbody>
      </table>
    </div>`;
  }

  private renderHosts(hosts: Baremetal[], groups: BaremetalGroup[]) {
    const [labelKey, labelValue] = this.label.includes('=') ? this.label.split('=', 2).map((s) => s.trim()) : [this.label.trim(), undefined];
    const filtered = hosts.filter((h) => {
      const phase = h.status?.phase ?? 'Unknown';
      if (this.state && phase !== this.state && h.spec.state !== this.state) return false;
      if (this.group && h.spec.group !== this.group) return false;
      const free = amounts(h.status?.free);
      if (this.minCpu > 0 && free.cpu < this.minCpu) return false;
      if (this.minMemory > 0 && free.memory < this.minMemory * 1024 ** 3) return false;
      if (labelKey) {
        const labels = h.metadata.labels ?? {};
        if (!(labelKey in labels)) return false;
        if (labelValue !== undefined && labels[labelKey] !== labelValue) return false;
      }
      return true;
    });
    const { rows, page } = pageOf(filtered, this.page, PAGE);
    const set = (field: 'state' | 'group' | 'label', value: string) => {
      this[field] = value;
      this.page = 0;
    };
    return html`<form class="filters" role="search" aria-label=${t('filters')} @submit=${(e: Event) => e.preventDefault()}>
        <label>${t('state')}
          <select @change=${(e: Event) => set('state', (e.target as HTMLSelectElement).value)}>
            <option value="">${t('all')}</option>
            ${['Ready', 'Maintenance', 'Offline', 'Error', 'Unknown', 'Available', 'Retired'].map((s) => html`<option ?selected=${this.state === s}>${s}</option>`)}
          </select>
        </label>
        <label>${t('group')}
          <select @change=${(e: Event) => set('group', (e.target as HTMLSelectElement).value)}>
            <option value="">${t('all')}</option>
            ${groups.map((g) => html`<option ?selected=${this.group === g.metadata.name}>${g.metadata.name}</option>`)}
          </select>
        </label>
        <label>${t('freeAtLeast')}
          <input type="number" min="0" .value=${String(this.minCpu || '')} @input=${(e: Event) => ((this.minCpu = Number((e.target as HTMLInputElement).value) || 0), (this.page = 0))} />
        </label>
        <label>${t('freeMemoryAtLeast')}
          <input type="number" min="0" .value=${String(this.minMemory || '')} @input=${(e: Event) => ((this.minMemory = Number((e.target as HTMLInputElement).value) || 0), (this.page = 0))} />
        </label>
        <label>${t('labelSelector')}
          <input type="text" .value=${this.label} @input=${(e: Event) => set('label', (e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <table class="hosts">
        <thead><tr><th>${t('name')}</th><th>${t('phase')}</th><th>${t('rack')}</th><th>${t('unit')}</th><th>${t('group')}</th><th>${t('free')} ${t('cpu')}</th><th>${t('free')} ${t('memory')}</th><th>${t('gpu')}</th><th>${t('load')}</th><th>VMs</th></tr></thead>
        <tbody>
          ${rows.map((h) => {
            const u = hostUsage(h);
            const free = amounts(h.status?.free);
            return html`<tr data-host=${h.metadata.name!}>
              <td>${h.metadata.name}<div class="muted">${h.spec.serialNumber}</div></td>
              <td><span class="badge host-${(h.status?.phase ?? 'Unknown').toLowerCase()}">${h.status?.phase ?? 'Unknown'}</span>${h.spec.state && h.spec.state !== 'Available' ? html` <span class="muted">(${h.spec.state})</span>` : ''}</td>
              <td><a href="#/inventory/rack/${h.spec.rack}">${h.spec.rack}</a></td>
              <td>U${h.spec.unit ?? '?'}</td>
              <td>${h.spec.group ?? '—'}</td>
              <td class="num">${free.cpu}</td>
              <td class="num">${humanBytes(free.memory)}</td>
              <td class="num">${u.used.gpu}/${u.total.gpu}</td>
              <td>${usageBar(t('cpu'), u.used.cpu, u.total.cpu, String)}</td>
              <td class="num">${h.status?.virtualMachines ?? 0}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${pager(filtered.length, page, PAGE, (p) => (this.page = p))}`;
  }

  private renderGroups(groups: BaremetalGroup[]) {
    return html`<div class="group-list">
      ${groups.map((g) => {
        const alloc = amounts(g.status?.allocatable);
        const used = amounts(g.status?.allocated);
        return html`<div class="group-card" data-group=${g.metadata.name!}>
          <h3>${g.metadata.name} <span class="muted">${g.spec.region ?? ''} ${g.spec.purpose ?? ''} · ${g.spec.strategy ?? 'Binpack'} · ${g.status?.baremetals ?? 0} ${t('hosts').toLowerCase()}</span></h3>
          ${resourceKeys.map((k) => usageBar(`${t(k)} (${t('allocated')} / ${t('allocatable')})`, used[k], alloc[k], (n) => amount(k, n)))}
        </div>`;
      })}
    </div>`;
  }
}
customElements.define('vf-inventory', Inventory);

function byName(a: { metadata: { name?: string } }, b: { metadata: { name?: string } }): number {
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}
