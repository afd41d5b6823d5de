// What every page shares: the informers it keeps live while shown, re-rendering on their
// changes and on a language switch, and the notices for a resource that is not live.
import { html, LitElement, nothing, type TemplateResult } from 'lit';
import type { KubeObject } from '../../src/machinery/object.js';
import type { ApiFailure } from './api.js';
import { onLanguage, t } from './i18n.js';
import { hub, type Informer } from './informer.js';
import type { ResourceRef } from './resources.js';

export abstract class Page extends LitElement {
  /** The resources this page watches while it is shown. */
  protected abstract readonly uses: readonly ResourceRef[];
  private release?: () => void;
  private offLanguage?: () => void;

  // Light DOM: one stylesheet for the whole portal, and tests read the page as people do.
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.release = hub.use(this.uses, () => this.requestUpdate());
    this.offLanguage = onLanguage(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.release?.();
    this.offLanguage?.();
  }

  protected informer<T extends KubeObject>(ref: ResourceRef): Informer<T> {
    return hub.informer<T>(ref);
  }

  /** A line saying why a resource shows nothing (yet), or nothing when it is live. */
  protected notice(ref: ResourceRef): TemplateResult | typeof nothing {
    const inf = hub.informer(ref);
    if (inf.state === 'forbidden') return html`<p class="notice forbidden" role="alert">${t('notAllowed', { what: ref.kind })}</p>`;
    if (inf.state === 'unavailable') return html`<p class="notice unavailable" role="status">${t('notAvailable', { what: ref.kind })}</p>`;
    if (!inf.synced && inf.state === 'reconnecting') return html`<p class="notice error" role="alert">${t('failed', { message: inf.error?.message ?? '' })}</p>`;
    if (!inf.synced) return html`<p class="notice" role="status">${t('loading')}</p>`;
    // The cache is kept while the stream is down: say the figures may be behind.
    if (inf.state === 'reconnecting') return html`<p class="notice" role="status">${ref.kind}: ${t('reconnecting')}</p>`;
    return nothing;
  }

  /** Every resource of the page has its first list. */
  protected get synced(): boolean {
    return this.uses.every((ref) => {
      const inf = hub.informer(ref);
      return inf.synced || inf.state === 'forbidden' || inf.state === 'unavailable';
    });
  }
}

/** A failed action as a sentence: 403 reads "not allowed", never a stack trace. */
export function actionError(err: unknown): string {
  const failure = err as ApiFailure;
  if (failure?.code === 403) return t('notAllowedAction', { message: failure.message });
  return t('failed', { message: (err as Error)?.message ?? String(err) });
}
