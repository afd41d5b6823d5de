// Virtual machines: the list (filters, search, pages of 50 over any number of VMs), a VM's
// detail (conditions, events, the placement explanation, power actions, delete) and the
// create form (server-side dry run and placement preview before the create).
import { html } from 'lit';
import type { VirtualMachine } from '../../../src/kinds/virtualmachine.js';
import type { VirtualMachineImage } from '../../../src/kinds/virtualmachineimage.js';
import type { VirtualMachineSpecification } from '../../../src/kinds/virtualmachinespecification.js';
import type { BaremetalGroup } from '../../../src/kinds/baremetalgroup.js';
import type { Tenant } from '../../../src/kinds/tenant.js';
import { api, type ApiFailure } from '../api.js';
import { pageOf, pager, phaseBadge } from '../components.js';
import { vmPhases } from '../estate.js';
import { age } from '../format.js';
import { formatNumber, t } from '../i18n.js';
import { actionError, Page } from '../page.js';
import { previewPlacement, type Preview } from '../placement-preview.js';
import { collectionPath, conditionsOf, objectPath, R, type KubeEvent } from '../resources.js';

const PAGE = 50;

function hashQuery(): URLSearchParams {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}

export class VmList extends Page {
  static override properties = { search: { state: true }, phase: { state: true }, namespace: { state: true }, host: { state: true }, page: { state: true } };
  declare search: string;
  declare phase: string;
  declare namespace: string;
  declare host: string;
  declare page: number;
  protected readonly uses = [R.virtualmachines];
  private memo?: { key: string; rows: VirtualMachine[] };

  constructor() {
    super();
    const q = hashQuery();
    this.search = q.get('q') ?? '';
    this.phase = q.get('phase') ?? '';
    this.namespace = q.get('namespace') ?? '';
    this.host = q.get('host') ?? '';
    this.page = 0;
  }

  private filtered(): VirtualMachine[] {
    const inf = this.informer<VirtualMachine>(R.virtualmachines);
    const key = [inf.revision, this.search, this.phase, this.namespace, this.host].join('\u0000');
    if (this.memo?.key === key) return this.memo.rows;
    const needle = this.search.trim().toLowerCase();
    const rows: VirtualMachine[] = [];
    for (const vm of inf.items.values()) {
      if (this.phase && (vm.status?.phase ?? 'Pending') !== this.phase) continue;
      if (this.namespace && vm.metadata.namespace !== this.namespace) continue;
      if (this.host && vm.status?.placement?.baremetal !== this.host) continue;
      if (needle) {
        const hay = `${vm.metadata.namespace}/${vm.metadata.name} ${vm.spec.specification} ${vm.spec.image} ${vm.status?.placement?.baremetal ?? ''} ${(vm.status?.addresses ?? []).map((a) => a.address).join(' ')}`.toLowerCase();
        if (!hay.includes(needle)) continue;
      }
      rows.push(vm);
    }
    const nameOf = (vm: VirtualMachine) => `${vm.metadata.namespace}/${vm.metadata.name}`;
    rows.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
    this.memo = { key, rows };
    return rows;
  }

  override render() {
    const inf = this.informer<VirtualMachine>(R.virtualmachines);
    const namespaces = [...new Set([...inf.items.values()].map((vm) => vm.metadata.namespace!))].sort();
    const all = this.filtered();
    const { rows, page } = pageOf(all, this.page, PAGE);
    const reset = () => (this.page = 0);
    return html`<section class="page vms">
      <div class="title-row">
        <h1 tabindex="-1">${t('navVms')} <span class="muted">${formatNumber(inf.items.size)}</span></h1>
        <a class="button primary" href="#/vms/new">${t('newVm')}</a>
      </div>
      ${this.notice(R.virtualmachines)}
      <form class="filters" role="search" aria-label=${t('filters')} @submit=${(e: Event) => e.preventDefault()}>
        <label>${t('search')}
          <input type="search" name="q" .value=${this.search} @input=${(e: Event) => ((this.search = (e.target as HTMLInputElement).value), reset())} />
        </label>
        <label>${t('phase')}
          <select name="phase" @change=${(e: Event) => ((this.phase = (e.target as HTMLSelectElement).value), reset())}>
            <option value="">${t('all')}</option>
            ${vmPhases.map((p) => html`<option ?selected=${this.phase === p}>${p}</option>`)}
          </select>
        </label>
        <label>${t('namespace')}
          <select name="namespace" @change=${(e: Event) => ((this.namespace = (e.target as HTMLSelectElement).value), reset())}>
            <option value="">${t('all')}</option>
            ${namespaces.map((n) => html`<option ?selected=${this.namespace === n}>${n}</option>`)}
          </select>
        </label>
        <label>${t('host')}
          <input type="text" name="host" .value=${this.host} @input=${(e: Event) => ((this.host = (e.target as HTMLInputElement).value.trim()), reset())} />
        </label>
      </form>
      <table class="vm-list">
        <thead><tr><th>${t('namespace')}</th><th>${t('name')}</th><th>${t('phase')}</th><th>${t('powerState')}</th><th>${t('host')}</th><th>${t('specification')}</th><th>${t('age')}</th></tr></thead>
        <tbody>
          ${rows.map(
            (vm) => html`<tr data-vm="${vm.metadata.namespace}/${vm.metadata.name}">
              <td>${vm.metadata.namespace}</td>
              <td><a href="#/vms/${vm.metadata.namespace}/${vm.metadata.name}">${vm.metadata.name}</a></td>
              <td>${phaseBadge(vm.status?.phase)}</td>
              <td>${vm.status?.powerState ?? '—'}</td>
              <td>${vm.status?.placement?.baremetal ?? '—'}</td>
              <td>${vm.spec.specification}</td>
              <td>${age(vm.metadata.creationTimestamp)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${pager(all.length, page, PAGE, (p) => (this.page = p))}
    </section>`;
  }
}
customElements.define('vf-vms', VmList);

export class VmDetail extends Page {
  static override properties = { namespace: { attribute: false }, name: { attribute: false }, error: { state: true }, busy: { state: true }, confirming: { state: true }, keepDisk: { state: true }, info: { state: true } };
  declare namespace: string;
  declare name: string;
  declare error: string;
  declare info: string;
  declare busy: boolean;
  declare confirming: boolean;
  declare keepDisk: boolean;
  protected readonly uses = [R.virtualmachines, R.events];

  constructor() {
    super();
    this.namespace = '';
    this.name = '';
    this.error = '';
    this.info = '';
    this.busy = false;
    this.confirming = false;
    this.keepDisk = false;
  }

  override render() {
    const vm = this.informer<VirtualMachine>(R.virtualmachines).get(`${this.namespace}/${this.name}`);
    const vmsSynced = this.informer(R.virtualmachines).synced;
    if (!vm) {
      return html`<section class="page vm-detail">
        <h1 tabindex="-1">${this.namespace}/${this.name}</h1>
        ${this.notice(R.virtualmachines)}
        ${vmsSynced ? html`<p class="notice">${this.info || t('notFound', { what: `${this.namespace}/${this.name}` })}</p>` : ''}
        <p><a href="#/vms">← ${t('back')}</a></p>
      </section>`;
    }
    const conditions = conditionsOf(vm);
    const scheduled = conditions.find((c) => c.type === 'Scheduled');
    const events = this.informer<KubeEvent>(R.events)
      .list()
      .filter((e) => e.involvedObject?.kind === 'VirtualMachine' && e.involvedObject.namespace === vm.metadata.namespace && e.involvedObject.name === vm.metadata.name)
      .sort((a, b) => eventTime(b).localeCompare(eventTime(a)));
    const phase = vm.status?.phase ?? 'Pending';
    const p = vm.status?.placement;
    return html`<section class="page vm-detail" data-vm="${vm.metadata.namespace}/${vm.metadata.name}" data-phase=${phase}>
      <p><a href="#/vms">← ${t('navVms')}</a></p>
      <div class="title-row">
        <h1 tabindex="-1">${vm.metadata.namespace}/${vm.metadata.name} ${phaseBadge(phase)}</h1>
        <div class="actions" role="group" aria-label=${t('actions')}>
          <button type="button" ?disabled=${this.busy} @click=${() => this.patch({ spec: { runStrategy: 'Always' } })}>${t('start')}</button>
          <button type="button" ?disabled=${this.busy} @click=${() => this.patch({ spec: { runStrategy: 'Halted', stopPolicy: 'Graceful' } })}>${t('stopGraceful')}</button>
          <button type="button" ?disabled=${this.busy} @click=${() => this.patch({ spec: { runStrategy: 'Halted', stopPolicy: 'Force' } })}>${t('stopForce')}</button>
          <button type="button" ?disabled=${this.busy} @click=${() => this.patch({ spec: { restartAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } })}>${t('restart')}</button>
          <button type="button" class="danger" ?disabled=${this.busy} @click=${() => ((this.confirming = true), (this.keepDisk = vm.spec.dataDisk === 'Retain'))}>${t('delete')}</button>
        </div>
      </div>
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : ''}
      ${this.confirming
        ? html`<div class="card confirm" role="alertdialog" aria-labelledby="confirm-title">
            <h2 id="confirm-title">${t('confirmDelete', { name: `${vm.metadata.namespace}/${vm.metadata.name}` })}</h2>
            <label><input type="checkbox" .checked=${this.keepDisk} @change=${(e: Event) => (this.keepDisk = (e.target as HTMLInputElement).checked)} /> ${t('keepDataDisk')}</label>
            <div class="row">
              <button type="button" class="danger" @click=${() => this.deleteVm(vm)}>${t('delete')}</button>
              <button type="button" @click=${() => (this.confirming = false)}>${t('cancel')}</button>
            </div>
          </div>`
        : ''}
      <div class="grid two">
        <div class="card">
          <dl class="facts">
            <dt>${t('phase')}</dt><dd data-testid="phase">${phase}</dd>
            <dt>${t('powerState')}</dt><dd>${vm.status?.powerState ?? '—'}</dd>
            <dt>${t('runStrategy')}</dt><dd>${vm.spec.runStrategy ?? 'Always'}${vm.spec.stopPolicy ? ` · ${vm.spec.stopPolicy}` : ''}</dd>
            <dt>${t('specification')}</dt><dd>${vm.spec.specification}</dd>
            <dt>${t('image')}</dt><dd>${vm.spec.image}</dd>
            <dt>${t('group')}</dt><dd>${vm.spec.group ?? '—'}</dd>
            <dt>${t('role')}</dt><dd>${vm.spec.role ?? 'Standalone'}</dd>
            <dt>${t('placement')}</dt><dd>${p?.baremetal ? `${p.baremetal} (${[p.region, p.datacenter, p.rack].filter(Boolean).join(' / ')})` : '—'}</dd>
            <dt>${t('addresses')}</dt><dd>${(vm.status?.addresses ?? []).map((a) => `${a.type} ${a.address}`).join(', ') || '—'}</dd>
          </dl>
        </div>
        <div class="card">
          <h2>${t('placementExplanation')}</h2>
          <p class="explanation" data-testid="placement-explanation">${scheduled?.message ?? '—'}</p>
          <h2>${t('conditions')}</h2>
          <table class="compact conditions">
            <thead><tr><th>${t('type')}</th><th>${t('status')}</th><th>${t('reason')}</th><th>${t('message')}</th></tr></thead>
            <tbody>
              ${conditions.map(
                (c) => html`<tr data-condition=${c.type}><td>${c.type}</td><td><span class="badge ${c.status === 'True' ? 'good' : c.status === 'False' ? 'bad' : ''}">${c.status}</span></td><td>${c.reason ?? ''}</td><td>${c.message ?? ''}</td></tr>`,
              )}
            </tbody>
          </table>
        </div>
      </div>
      <div class="card">
        <h2>${t('events')}</h2>
        ${this.notice(R.events)}
        ${eventTable(events.slice(0, 30))}
      </div>
    </section>`;
  }

  private async patch(body: unknown): Promise<void> {
    this.busy = true;
    try {
      await api.mergePatch(objectPath(R.virtualmachines, this.name, this.namespace), body);
      this.error = '';
    } catch (err) {
      this.error = actionError(err);
    } finally {
      this.busy = false;
    }
  }

  private async deleteVm(vm: VirtualMachine): Promise<void> {
    this.busy = true;
    try {
      const path = objectPath(R.virtualmachines, this.name, this.namespace);
      const dataDisk = this.keepDisk ? 'Retain' : 'Delete';
      if ((vm.spec.dataDisk ?? 'Delete') !== dataDisk) await api.mergePatch(path, { spec: { dataDisk } });
      await api.remove(path);
      this.confirming = false;
      this.error = '';
    } catch (err) {
      this.error = actionError(err);
    } finally {
      this.busy = false;
    }
  }
}
customElements.define('vf-vm-detail', VmDetail);

export function eventTime(e: KubeEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
}

export function eventTable(events: KubeEvent[], withObject = false) {
  return html`<table class="compact events">
    <thead><tr><th>${t('type')}</th><th>${t('reason')}</th>${withObject ? html`<th>${t('object')}</th>` : ''}<th>${t('message')}</th><th>${t('count')}</th><th>${t('lastSeen')}</th></tr></thead>
    <tbody>
      ${events.map(
        (e) => html`<tr data-reason=${e.reason ?? ''}>
          <td><span class="badge ${e.type === 'Warning' ? 'warn' : ''}">${e.type ?? ''}</span></td>
          <td>${e.reason ?? ''}</td>
          ${withObject ? html`<td>${e.involvedObject?.kind}/${e.involvedObject?.namespace ? `${e.involvedObject.namespace}/` : ''}${e.involvedObject?.name}</td>` : ''}
          <td>${e.message ?? ''}</td>
          <td class="num">${e.count ?? 1}</td>
          <td>${age(eventTime(e))}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

export class VmCreate extends Page {
  static override properties = { preview: { state: true }, error: { state: true }, causes: { state: true }, created: { state: true }, busy: { state: true } };
  declare preview?: Preview;
  declare error: string;
  declare causes: { field?: string; message?: string }[];
  declare created: string;
  declare busy: boolean;
  protected readonly uses = [R.tenants, R.specifications, R.images, R.baremetalgroups];
  private checked?: string;

  constructor() {
    super();
    this.error = '';
    this.causes = [];
    this.created = '';
    this.busy = false;
  }

  private body(): VirtualMachine {
    const form = this.querySelector('form') as HTMLFormElement;
    const v = (n: string) => ((form.elements.namedItem(n) as HTMLInputElement | HTMLSelectElement | null)?.value ?? '').trim();
    const spec: Record<string, unknown> = { specification: v('specification'), image: v('image'), runStrategy: v('runStrategy') || 'Always' };
    if (v('group')) spec.group = v('group');
    if (v('baremetal')) spec.baremetal = v('baremetal');
    return {
      apiVersion: 'virtflow.io/v1alpha1',
      kind: 'VirtualMachine',
      metadata: { name: v('name'), namespace: v('namespace') },
      spec: spec as VirtualMachine['spec'],
    };
  }

  override render() {
    const tenants = this.informer<Tenant>(R.tenants).list();
    const specs = this.informer<VirtualMachineSpecification>(R.specifications).list();
    const images = this.informer<VirtualMachineImage>(R.images).list();
    const groups = this.informer<BaremetalGroup>(R.baremetalgroups).list();
    const names = (xs: { metadata: { name?: string } }[]) => xs.map((x) => x.metadata.name!).sort();
    const changed = () => {
      this.preview = undefined;
      this.created = '';
    };
    return html`<section class="page vm-create">
      <p><a href="#/vms">← ${t('navVms')}</a></p>
      <h1 tabindex="-1">${t('createVm')}</h1>
      ${this.uses.map((ref) => this.notice(ref))}
      <div class="grid two">
        <form class="card form" @input=${changed} @submit=${(e: Event) => this.submit(e)}>
          <label>${t('tenant')} / ${t('namespace')}
            <select name="namespace" required>
              ${tenants.map((x) => html`<option value=${x.status?.namespace ?? x.spec.namespace ?? x.metadata.name!}>${x.spec.displayName || x.metadata.name} (${x.status?.namespace ?? x.spec.namespace ?? x.metadata.name})</option>`)}
            </select>
          </label>
          <label>${t('name')} <input name="name" required pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?" autocomplete="off" /></label>
          <label>${t('specification')}
            <select name="specification" required>${names(specs).map((n) => html`<option>${n}</option>`)}</select>
          </label>
          <label>${t('image')}
            <select name="image" required>${names(images).map((n) => html`<option>${n}</option>`)}</select>
          </label>
          <label>${t('group')}
            <select name="group">${names(groups).map((n) => html`<option>${n}</option>`)}<option value="">—</option></select>
          </label>
          <label>${t('host')} <input name="baremetal" autocomplete="off" /></label>
          <label>${t('runStrategy')}
            <select name="runStrategy"><option>Always</option><option>Halted</option><option>Manual</option></select>
          </label>
          <div class="row">
            <button type="submit" name="check" class="primary" ?disabled=${this.busy}>${t('preview')}</button>
            <button type="button" ?disabled=${this.busy || !this.preview} @click=${() => this.create()}>${t('create')}</button>
          </div>
        </form>
        <div class="card" aria-live="polite">
          <h2>${t('previewTitle')}</h2>
          ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : ''}
          ${this.causes.length > 0 ? html`<ul class="causes">${this.causes.map((c) => html`<li><code>${c.field}</code>: ${c.message}</li>`)}</ul>` : ''}
          ${this.preview ? this.renderPreview(this.preview) : ''}
          ${this.created ? html`<p class="notice ok" role="status">${t('created', { name: this.created })} <a href="#/vms/${this.created}">→</a></p>` : ''}
        </div>
      </div>
    </section>`;
  }

  private renderPreview(p: Preview) {
    return html`<p class="ok">${t('dryRunOk')}</p>
      ${p.result.ok
        ? html`<p class="placement-ok" data-testid="preview-host">${t('wouldPlace', { host: p.result.host, where: p.where ?? '' })}</p>
            <p class="explanation">${p.result.explanation.message}</p>`
        : html`<p class="notice error" data-testid="preview-unschedulable">${t('wouldNotPlace', { message: p.result.diagnosis.message })}</p>`}`;
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const body = this.body();
    this.busy = true;
    this.error = '';
    this.causes = [];
    this.preview = undefined;
    try {
      await api.create(collectionPath(R.virtualmachines, body.metadata.namespace), body, true);
      this.preview = await previewPlacement(body);
      this.checked = JSON.stringify(body);
    } catch (err) {
      this.error = actionError(err);
      this.causes = (err as ApiFailure).causes ?? [];
    } finally {
      this.busy = false;
    }
  }

  private async create(): Promise<void> {
    const body = this.body();
    // What is created is what was checked: a changed form asks for a new check first.
    if (JSON.stringify(body) !== this.checked) {
      this.preview = undefined;
      return;
    }
    this.busy = true;
    try {
      await api.create(collectionPath(R.virtualmachines, body.metadata.namespace), body);
      this.created = `${body.metadata.namespace}/${body.metadata.name}`;
      this.preview = undefined;
    } catch (err) {
      this.error = actionError(err);
      this.causes = (err as ApiFailure).causes ?? [];
    } finally {
      this.busy = false;
    }
  }
}
customElements.define('vf-vm-create', VmCreate);
