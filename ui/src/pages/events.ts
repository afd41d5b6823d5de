// Events, filterable by type, namespace, kind and text, live from their watch; and beside
// them, in a second tab, the audit trail (pages/audit.ts).
import { html } from 'lit';
import { pageOf, pager } from '../components.js';
import { t } from '../i18n.js';
import { Page } from '../page.js';
import { R, type KubeEvent } from '../resources.js';
import { eventTable, eventTime } from './vms.js';
import './audit.js';

const PAGE = 50;

export class Events extends Page {
  static override properties = { type: { state: true }, namespace: { state: true }, kind: { state: true }, text: { state: true }, page: { state: true }, tab: { state: true } };
  declare tab: 'events' | 'audit';
  declare type: string;
  declare namespace: string;
  declare kind: string;
  declare text: string;
  declare page: number;
  protected readonly uses = [R.events];

  constructor() {
    super();
    this.type = '';
    this.namespace = '';
    this.kind = '';
    this.text = '';
    this.page = 0;
    this.tab = 'events';
  }

  /** The two tabs; arrow keys move between them, as the ARIA tabs pattern has it. */
  private tabs() {
    const tab = (id: 'events' | 'audit', label: string) => html`<button
      type="button"
      role="tab"
      id="tab-${id}"
      aria-controls="panel-${id}"
      aria-selected=${this.tab === id ? 'true' : 'false'}
      tabindex=${this.tab === id ? '0' : '-1'}
      @click=${() => (this.tab = id)}
      @keydown=${(e: KeyboardEvent) => {
        if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
        this.tab = this.tab === 'events' ? 'audit' : 'events';
        void this.updateComplete.then(() => this.querySelector<HTMLElement>(`#tab-${this.tab}`)?.focus());
      }}
    >${label}</button>`;
    return html`<div class="tabs" role="tablist" aria-label=${t('navEvents')}>${tab('events', t('events'))}${tab('audit', t('auditTrail'))}</div>`;
  }

  override render() {
    if (this.tab === 'audit') {
      return html`<section class="page events">
        <h1 tabindex="-1">${t('navEvents')}</h1>
        ${this.tabs()}
        <div role="tabpanel" id="panel-audit" aria-labelledby="tab-audit"><vf-audit-trail></vf-audit-trail></div>
      </section>`;
    }
    const all = this.informer<KubeEvent>(R.events).list();
    const namespaces = [...new Set(all.map((e) => e.metadata.namespace ?? ''))].filter(Boolean).sort();
    const kinds = [...new Set(all.map((e) => e.involvedObject?.kind ?? ''))].filter(Boolean).sort();
    const needle = this.text.trim().toLowerCase();
    const rows = all
      .filter((e) => (!this.type || e.type === this.type) && (!this.namespace || e.metadata.namespace === this.namespace) && (!this.kind || e.involvedObject?.kind === this.kind))
      .filter((e) => !needle || `${e.reason} ${e.message} ${e.involvedObject?.name}`.toLowerCase().includes(needle))
      .sort((a, b) => eventTime(b).localeCompare(eventTime(a)));
    const { rows: shown, page } = pageOf(rows, this.page, PAGE);
    const reset = () => (this.page = 0);
    return html`<section class="page events">
      <h1 tabindex="-1">${t('navEvents')}</h1>
      ${this.tabs()}
      <div role="tabpanel" id="panel-events" aria-labelledby="tab-events">
      ${this.notice(R.events)}
      <form class="filters" role="search" aria-label=${t('filters')} @submit=${(e: Event) => e.preventDefault()}>
        <label>${t('type')}
          <select @change=${(e: Event) => ((this.type = (e.target as HTMLSelectElement).value), reset())}>
            <option value="">${t('all')}</option><option value="Normal">${t('normal')}</option><option value="Warning">${t('warning')}</option>
          </select>
        </label>
        <label>${t('namespace')}
          <select @change=${(e: Event) => ((this.namespace = (e.target as HTMLSelectElement).value), reset())}>
            <option value="">${t('all')}</option>${namespaces.map((n) => html`<option>${n}</option>`)}
          </select>
        </label>
        <label>${t('kind')}
          <select @change=${(e: Event) => ((this.kind = (e.target as HTMLSelectElement).value), reset())}>
            <option value="">${t('all')}</option>${kinds.map((k) => html`<option>${k}</option>`)}
          </select>
        </label>
        <label>${t('search')} <input type="search" .value=${this.text} @input=${(e: Event) => ((this.text = (e.target as HTMLInputElement).value), reset())} /></label>
      </form>
      ${eventTable(shown, true)}
      ${pager(rows.length, page, PAGE, (p) => (this.page = p))}
      </div>
    </section>`;
  }
}
customElements.define('vf-events', Events);
