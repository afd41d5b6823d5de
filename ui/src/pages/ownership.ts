// Ownership: who maintains a resource (directly and through groups), and everything a
// maintainer or a group looks after.
import { html } from 'lit';
import type { Maintainer } from '../../../src/kinds/maintainer.js';
import type { MaintainerAssignment } from '../../../src/kinds/maintainerassignment.js';
import type { MaintainerGroup } from '../../../src/kinds/maintainergroup.js';
import { t } from '../i18n.js';
import { Page } from '../page.js';
import { R } from '../resources.js';

function resourceName(a: MaintainerAssignment): string {
  const r = a.spec.resource;
  return `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export class Ownership extends Page {
  static override properties = { who: { state: true }, query: { state: true } };
  declare who: string;
  declare query: string;
  protected readonly uses = [R.maintainers, R.maintainergroups, R.maintainerassignments];

  constructor() {
    super();
    this.who = '';
    this.query = '';
  }

  override render() {
    const maintainers = this.informer<Maintainer>(R.maintainers).list().sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const groups = this.informer<MaintainerGroup>(R.maintainergroups).list().sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const assignments = this.informer<MaintainerAssignment>(R.maintainerassignments).list();
    const groupsOf = (m: string) => groups.filter((g) => g.spec.manager === m || (g.spec.members ?? []).includes(m));
    const who = this.who || (maintainers[0] ? `m:${maintainers[0].metadata.name}` : '');
    return html`<section class="page ownership">
      <h1 tabindex="-1">${t('navOwnership')}</h1>
      ${this.uses.map((ref) => this.notice(ref))}
      <div class="grid sidebar">
        <div class="card">
          <h2>${t('maintainers')}</h2>
          <ul class="picker">
            ${maintainers.map(
              (m) => html`<li><button type="button" class="link" aria-pressed=${who === `m:${m.metadata.name}` ? 'true' : 'false'} @click=${() => (this.who = `m:${m.metadata.name}`)}>
                <strong>${m.spec.displayName ?? m.metadata.name}</strong> <span class="muted">${m.spec.account}</span>
              </button></li>`,
            )}
          </ul>
          <h2>${t('maintainerGroups')}</h2>
          <ul class="picker">
            ${groups.map(
              (g) => html`<li><button type="button" class="link" aria-pressed=${who === `g:${g.metadata.name}` ? 'true' : 'false'} @click=${() => (this.who = `g:${g.metadata.name}`)}>
                <strong>${g.spec.displayName ?? g.metadata.name}</strong> <span class="muted">${t('manager')}: ${g.spec.manager}</span>
              </button></li>`,
            )}
          </ul>
        </div>
        <div>
          <div class="card looks-after">${this.renderLooksAfter(who, assignments, groupsOf, groups)}</div>
          <div class="card">
            <h2>${t('resourceMaintainers')}</h2>
            <label class="wide">${t('search')} <input type="search" placeholder=${t('chooseResource')} .value=${this.query} @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)} /></label>
            ${this.renderResourceMaintainers(assignments, groups)}
          </div>
        </div>
      </div>
    </section>`;
  }

  private renderLooksAfter(who: string, assignments: MaintainerAssignment[], groupsOf: (m: string) => MaintainerGroup[], groups: MaintainerGroup[]) {
    if (!who) return html`<p>${t('none')}</p>`;
    const [kind, name] = [who.slice(0, 1), who.slice(2)];
    const rows: { resource: string; role: string; via: string }[] = [];
    if (kind === 'm') {
      for (const a of assignments) if ((a.spec.maintainers ?? []).includes(name)) rows.push({ resource: resourceName(a), role: a.spec.role ?? 'Owner', via: t('direct') });
      for (const g of groupsOf(name)) for (const a of assignments) if ((a.spec.groups ?? []).includes(g.metadata.name!)) rows.push({ resource: resourceName(a), role: a.spec.role ?? 'Owner', via: t('viaGroup', { group: g.metadata.name! }) });
    } else {
      for (const a of assignments) if ((a.spec.groups ?? []).includes(name)) rows.push({ resource: resourceName(a), role: a.spec.role ?? 'Owner', via: t('direct') });
    }
    const group = kind === 'g' ? groups.find((g) => g.metadata.name === name) : undefined;
    return html`<h2>${t('looksAfter')}: ${name}</h2>
      ${kind === 'm' ? html`<p>${t('groups')}: ${groupsOf(name).map((g) => g.metadata.name).join(', ') || t('none')}</p>` : ''}
      ${group ? html`<p>${t('manager')}: ${group.spec.manager} · ${t('members')}: ${(group.spec.members ?? []).join(', ')}</p>` : ''}
      <table class="compact">
        <thead><tr><th>${t('object')}</th><th>${t('role')}</th><th>${t('through')}</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr><td>${r.resource}</td><td>${r.role}</td><td>${r.via}</td></tr>`)}</tbody>
      </table>`;
  }

  private renderResourceMaintainers(assignments: MaintainerAssignment[], groups: MaintainerGroup[]) {
    const needle = this.query.trim().toLowerCase();
    const matching = assignments.filter((a) => !needle || resourceName(a).toLowerCase().includes(needle));
    return html`<table class="compact">
      <thead><tr><th>${t('object')}</th><th>${t('role')}</th><th>${t('maintainers')}</th></tr></thead>
      <tbody>
        ${matching.map((a) => {
          const direct = (a.spec.maintainers ?? []).map((m) => `${m} (${t('direct')})`);
          const viaGroups = (a.spec.groups ?? []).flatMap((gName) => {
            const g = groups.find((x) => x.metadata.name === gName);
            const people = g ? [...new Set([g.spec.manager, ...(g.spec.members ?? [])])] : [];
            return people.map((m) => `${m} (${t('viaGroup', { group: gName })})`);
          });
          return html`<tr><td>${resourceName(a)}</td><td>${a.spec.role ?? 'Owner'}</td><td>${[...direct, ...viaGroups].join(', ')}</td></tr>`;
        })}
      </tbody>
    </table>`;
  }
}
customElements.define('vf-ownership', Ownership);
