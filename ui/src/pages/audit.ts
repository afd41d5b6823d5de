// The audit trail (AuditEvents, audit.virtflow.io): who did what to which object, newest
// first, filtered on the server (field selectors for user, verb, resource; the namespace in
// the path, so a tenant admin reads their own; a time range through the time label) and read
// a page at a time with the server's continue tokens. The trail cannot be watched: it is
// fetched when the filters change and on Refresh.
import { html, LitElement, nothing } from 'lit';
import { AUDIT_GROUP, AUDIT_LABELS, AUDIT_VERSION, type AuditEvent } from '../../../src/audit/resource.js';
import { escapeFieldValue } from '../../../src/machinery/fields.js';
import { api, ApiFailure } from '../api.js';
import { onLanguage, t } from '../i18n.js';

const PAGE = 50;
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

export interface AuditFilters {
  user: string;
  verb: string;
  resource: string;
  namespace: string;
  /** datetime-local values ("2026-12-06T14:05"), in the browser's time zone. */
  from: string;
  until: string;
}

export const noFilters: AuditFilters = { user: '', verb: '', resource: '', namespace: '', from: '', until: '' };

/** The request for one page: the filters as the API's selectors, the namespace in the path. */
export function auditPagePath(filters: AuditFilters, limit: number, continueToken?: string): string {
  const fields: string[] = [];
  const add = (field: string, value: string) => value.trim() && fields.push(`${field}=${escapeFieldValue(value.trim())}`);
  add('user.username', filters.user);
  add('verb', filters.verb);
  add('objectRef.resource', filters.resource);
  const labels: string[] = [];
  const seconds = (local: string) => Math.floor(new Date(local).getTime() / 1000);
  // The time label is whole seconds: "from" includes its second, "until" excludes its own.
  if (filters.from && !Number.isNaN(seconds(filters.from))) labels.push(`${AUDIT_LABELS.time}>${seconds(filters.from) - 1}`);
  if (filters.until && !Number.isNaN(seconds(filters.until))) labels.push(`${AUDIT_LABELS.time}<${seconds(filters.until)}`);
  const query = new URLSearchParams({ limit: String(limit) });
  if (fields.length) query.set('fieldSelector', fields.join(','));
  if (labels.length) query.set('labelSelector', labels.join(','));
  if (continueToken) query.set('continue', continueToken);
  const namespace = filters.namespace.trim();
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${AUDIT_GROUP}/${AUDIT_VERSION}${scope}/auditevents?${query}`;
}

interface AuditList {
  items: AuditEvent[];
  metadata: { continue?: string };
}

function resourceOf(e: AuditEvent): string {
  const ref = e.objectRef;
  return `${ref.resource}${ref.apiGroup ? `.${ref.apiGroup}` : ''}${ref.subresource ? `/${ref.subresource}` : ''}`;
}

export class AuditTrail extends LitElement {
  static override properties = {
    filters: { state: true },
    items: { state: true },
    page: { state: true },
    next: { state: true },
    error: { state: true },
    loading: { state: true },
  };
  declare filters: AuditFilters;
  declare items: AuditEvent[];
  declare page: number;
  declare next?: string;
  declare error?: ApiFailure;
  declare loading: boolean;
  /** The continue token of each page shown so far; page 0 has none. */
  private tokens: (string | undefined)[] = [undefined];
  private offLanguage?: () => void;
  private requested = 0;

  constructor() {
    super();
    this.filters = noFilters;
    this.items = [];
    this.page = 0;
    this.loading = false;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.offLanguage = onLanguage(() => this.requestUpdate());
    void this.load(0);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offLanguage?.();
  }

  /** Fetches page `page`; an answer to an older request than the last one is dropped. */
  private async load(page: number): Promise<void> {
    const request = ++this.requested;
    this.loading = true;
    try {
      const list = await api.get<AuditList>(auditPagePath(this.filters, PAGE, this.tokens[page]));
      if (request !== this.requested) return;
      this.items = list.items;
      this.page = page;
      this.next = list.metadata.continue;
      this.tokens[page + 1] = this.next;
      this.error = undefined;
    } catch (err) {
      if (request !== this.requested) return;
      this.items = [];
      this.next = undefined;
      this.error = err instanceof ApiFailure ? err : new ApiFailure(0, 'Unknown', String(err));
    } finally {
      if (request === this.requested) this.loading = false;
    }
  }

  private apply(form: HTMLFormElement): void {
    const value = (name: string) => ((form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null)?.value ?? '').trim();
    this.filters = { user: value('user'), verb: value('verb'), resource: value('resource'), namespace: value('namespace'), from: value('from'), until: value('until') };
    this.tokens = [undefined];
    void this.load(0);
  }

  private clear(form: HTMLFormElement): void {
    // Not form.reset(): that would bring back the verb whose option was rendered selected.
    for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.value = '';
    this.apply(form);
  }

  override render() {
    return html`<section class="audit-trail" aria-labelledby="audit-heading" data-loading=${this.loading ? 'true' : 'false'}>
      <h2 id="audit-heading">${t('auditTrail')}</h2>
      <p class="hint">${t('auditHelp')}</p>
      <form
        class="filters"
        role="search"
        aria-label=${t('auditFilters')}
        @submit=${(e: Event) => {
          e.preventDefault();
          this.apply(e.target as HTMLFormElement);
        }}
      >
        <label>${t('user')} <input name="user" type="search" autocomplete="off" .value=${this.filters.user} /></label>
        <label>${t('verb')}
          <select name="verb">
            <option value="">${t('all')}</option>
            ${VERBS.map((v) => html`<option ?selected=${this.filters.verb === v}>${v}</option>`)}
          </select>
        </label>
        <label>${t('resource')} <input name="resource" type="search" autocomplete="off" placeholder="virtualmachines" .value=${this.filters.resource} /></label>
        <label>${t('namespace')} <input name="namespace" type="search" autocomplete="off" placeholder=${t('allNamespaces')} .value=${this.filters.namespace} /></label>
        <label>${t('from')} <input name="from" type="datetime-local" step="1" .value=${this.filters.from} /></label>
        <label>${t('until')} <input name="until" type="datetime-local" step="1" .value=${this.filters.until} /></label>
        <button type="submit">${t('applyFilters')}</button>
        <button type="button" @click=${(e: Event) => this.clear((e.target as HTMLElement).closest('form')!)}>${t('clear')}</button>
      </form>
      ${this.renderError()}
      ${this.error ? nothing : this.renderTable()}
      <nav class="pager" aria-label=${t('auditPages')}>
        <button type="button" ?disabled=${this.page === 0 || this.loading} @click=${() => this.load(this.page - 1)}>${t('newer')}</button>
        <span data-testid="audit-page">${t('pageN', { n: this.page + 1 })}</span>
        <button type="button" ?disabled=${!this.next || this.loading} @click=${() => this.load(this.page + 1)}>${t('older')}</button>
        <button type="button" ?disabled=${this.loading} @click=${() => this.load(this.page)}>${t('refresh')}</button>
      </nav>
    </section>`;
  }

  private renderError() {
    if (!this.error) return nothing;
    if (this.error.forbidden) return html`<p class="notice forbidden" role="alert">${t('notAllowed', { what: 'AuditEvent' })}</p>`;
    return html`<p class="notice error" role="alert">${t('failed', { message: this.error.message })}</p>`;
  }

  private renderTable() {
    if (!this.loading && this.items.length === 0) return html`<p class="notice" role="status">${t('auditEmpty')}</p>`;
    return html`<table class="compact audit">
      <thead>
        <tr><th>${t('time')}</th><th>${t('user')}</th><th>${t('verb')}</th><th>${t('resource')}</th><th>${t('namespace')}</th><th>${t('object')}</th><th>${t('code')}</th></tr>
      </thead>
      <tbody>
        ${this.items.map(
          (e) => html`<tr data-audit-id=${e.metadata.name ?? ''}>
            <td><time datetime=${e.stageTimestamp}>${new Date(e.stageTimestamp).toLocaleString()}</time></td>
            <td>${e.user.username}</td>
            <td>${e.verb}</td>
            <td>${resourceOf(e)}</td>
            <td>${e.objectRef.namespace ?? ''}</td>
            <td>${e.objectRef.name ?? ''}</td>
            <td><span class="badge ${e.responseStatus.code >= 400 ? 'bad' : 'good'}">${e.responseStatus.code}</span></td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define('vf-audit-trail', AuditTrail);
