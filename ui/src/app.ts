// The shell: sign-in, navigation and the hash router (#/vms/acme/web-1), so the server only
// ever serves index.html and its assets.
import { html, LitElement } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { session, signIn, UNAUTHORIZED } from './api.js';
import { language, onLanguage, setLanguage, t, type MessageKey } from './i18n.js';
import { actionError } from './page.js';
import './pages/overview.js';
import './pages/inventory.js';
import './pages/tenants.js';
import './pages/vms.js';
import './pages/clusters.js';
import './pages/ownership.js';
import './pages/events.js';

interface Route {
  page: string;
  args: string[];
}

function currentRoute(): Route {
  const parts = location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? 'overview', args: parts.slice(1) };
}

const nav: [string, MessageKey][] = [
  ['overview', 'navOverview'],
  ['inventory', 'navInventory'],
  ['tenants', 'navTenants'],
  ['vms', 'navVms'],
  ['clusters', 'navClusters'],
  ['ownership', 'navOwnership'],
  ['events', 'navEvents'],
];

export class App extends LitElement {
  static override properties = { route: { state: true }, signedIn: { state: true }, signInError: { state: true } };
  declare route: Route;
  declare signedIn: boolean;
  declare signInError: string;

  constructor() {
    super();
    this.route = currentRoute();
    this.signedIn = session.token !== null;
    this.signInError = '';
    window.addEventListener('hashchange', () => {
      this.route = currentRoute();
      // After navigating, the page's heading is where keyboard focus belongs (the page
      // renders after the shell: wait a frame for it).
      void this.updateComplete.then(() => requestAnimationFrame(() => (this.querySelector('main h1') as HTMLElement | null)?.focus()));
    });
    onLanguage(() => this.requestUpdate());
    window.addEventListener(UNAUTHORIZED, () => {
      if (!this.signedIn) return;
      // Every watch and cache belongs to the identity that signed in: start clean.
      session.clear();
      location.reload();
    });
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override render() {
    if (!this.signedIn) return this.renderSignIn();
    return html`<a class="skip" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        (this.querySelector('main') as HTMLElement).focus();
      }}>${t('skipToContent')}</a>
      <header class="topbar">
        <a class="brand" href="#/overview">${t('appName')}</a>
        <nav aria-label=${t('mainNav')}>
          <ul>
            ${nav.map(
              ([page, key]) => html`<li><a href="#/${page}" aria-current=${this.route.page === page ? 'page' : 'false'}>${t(key)}</a></li>`,
            )}
          </ul>
        </nav>
        <div class="tools">
          <button type="button" class="lang" aria-label=${t('language')} @click=${() => setLanguage(language() === 'en' ? 'zh-TW' : 'en')}>${t('switchLanguage')}</button>
          <button type="button" @click=${() => this.signOut()}>${t('signOut')}</button>
        </div>
      </header>
      <main id="main" tabindex="-1">${keyed(location.hash, this.renderPage())}</main>`;
  }

  private renderPage() {
    const { page, args } = this.route;
    switch (page) {
      case 'inventory':
        return html`<vf-inventory .rack=${args[0] === 'rack' ? (args[1] ?? '') : ''}></vf-inventory>`;
      case 'tenants':
        return html`<vf-tenants .selected=${args[0] ?? ''}></vf-tenants>`;
      case 'vms':
        if (args[0] === 'new') return html`<vf-vm-create></vf-vm-create>`;
        if (args.length >= 2) return html`<vf-vm-detail .namespace=${args[0]!} .name=${args[1]!}></vf-vm-detail>`;
        return html`<vf-vms></vf-vms>`;
      case 'clusters':
        return html`<vf-clusters></vf-clusters>`;
      case 'ownership':
        return html`<vf-ownership></vf-ownership>`;
      case 'events':
        return html`<vf-events></vf-events>`;
      default:
        return html`<vf-overview></vf-overview>`;
    }
  }

  private renderSignIn() {
    return html`<main id="main" class="signin">
      <form class="card" @submit=${(e: Event) => this.submitToken(e)}>
        <h1>${t('signInTitle')}</h1>
        <p>${t('signInHelp')}</p>
        <label for="token">${t('token')}</label>
        <input id="token" name="token" type="password" autocomplete="off" required />
        ${this.signInError ? html`<p class="notice error" role="alert">${this.signInError}</p>` : ''}
        <div class="row">
          <button type="submit" class="primary">${t('signIn')}</button>
          <button type="button" class="lang" @click=${() => setLanguage(language() === 'en' ? 'zh-TW' : 'en')}>${t('switchLanguage')}</button>
        </div>
      </form>
    </main>`;
  }

  private async submitToken(e: Event): Promise<void> {
    e.preventDefault();
    const token = ((e.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement).value.trim();
    try {
      await signIn(token);
      this.signInError = '';
      this.signedIn = true;
    } catch (err) {
      this.signInError = (err as { code?: number }).code === 401 ? t('tokenRejected') : actionError(err);
    }
  }

  private signOut(): void {
    session.clear();
    // Every watch and cache belongs to the identity that signed in: start clean.
    location.reload();
  }
}
customElements.define('vf-app', App);
