// Events, filterable by type, namespace, kind and text. The audit trail is recorded by the
// API server (audit_events) but no API serves it yet; the page says so.
import { html } from 'lit';
import { pageOf, pager } from '../components.js';
import { t } from '../i18n.js';
import { Page } from '../page.js';
import { R, type KubeEvent } from '../resources.js';
import { eventTable, eventTime } from './vms.js';

const PAGE = 50;

export class Events extends Page {
  static override properties = { type: { state: true }, namespace: { state: true }, kind: { state: true }, text: { state: true }, page: { state: true } };
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
  }

  override render() {
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
      <p class="notice" role="note">${t('auditNotExposed')}</p>
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
    </section>`;
  }
}
customElements.define('vf-events', Events);
