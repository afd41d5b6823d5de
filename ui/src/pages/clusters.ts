// Kubernetes clusters: control plane and pools with ready / wanted, scaling a pool through
// the K8sNodePool scale subresource, version and upgrade progress. K8sNodePool may not be
// served (it is being added alongside the portal): then pools come from the cluster status.
import { html } from 'lit';
import type { K8sCluster } from '../../../src/kinds/k8scluster.js';
import { api } from '../api.js';
import { phaseBadge } from '../components.js';
import { t } from '../i18n.js';
import { actionError, Page } from '../page.js';
import { objectPath, R, type K8sNodePool } from '../resources.js';

/** The parts of a cluster's status API.md promises that older servers may not have yet. */
interface ClusterStatusView {
  phase?: string;
  version?: string;
  controlPlane?: { ready?: number; replicas?: number };
  nodePools?: { name: string; ready?: number; replicas?: number; version?: string }[];
  upgrade?: { from?: string; to?: string; step?: string; state?: string; startedAt?: string };
}

export class Clusters extends Page {
  static override properties = { error: { state: true } };
  declare error: string;
  protected readonly uses = [R.k8sclusters, R.k8snodepools];

  constructor() {
    super();
    this.error = '';
  }

  override render() {
    const clusters = this.informer<K8sCluster>(R.k8sclusters).list().sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const pools = this.informer<K8sNodePool>(R.k8snodepools);
    const poolsServed = pools.state !== 'unavailable';
    return html`<section class="page clusters">
      <h1 tabindex="-1">${t('navClusters')}</h1>
      ${this.notice(R.k8sclusters)}
      ${poolsServed ? this.notice(R.k8snodepools) : html`<p class="notice unavailable" role="status">${t('nodePoolsUnavailable')}</p>`}
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : ''}
      ${clusters.map((c) => this.renderCluster(c, poolsServed ? pools.list().filter((p) => p.metadata.namespace === c.metadata.namespace && p.spec.cluster === c.metadata.name) : undefined))}
    </section>`;
  }

  private renderCluster(c: K8sCluster, pools: K8sNodePool[] | undefined) {
    const status = (c.status ?? {}) as ClusterStatusView;
    const cp = status.controlPlane ?? {};
    const wanted = c.spec.controlPlane?.replicas ?? 3;
    const up = status.upgrade;
    return html`<div class="card cluster" data-cluster="${c.metadata.namespace}/${c.metadata.name}">
      <div class="title-row">
        <h2>${c.metadata.namespace}/${c.metadata.name} ${phaseBadge(status.phase ?? 'Pending')}</h2>
        <span>${t('version')}: ${c.spec.version}${status.version && status.version !== c.spec.version ? ` (${status.version})` : ''}</span>
      </div>
      <p class="muted">${c.spec.description ?? ''}</p>
      <p>${t('upgrade')}: ${up?.to ? t('upgradeProgress', { from: up.from ?? '?', to: up.to, step: up.step ?? '', state: up.state ?? '' }) : t('noUpgrade')}</p>
      <table class="compact">
        <thead><tr><th>${t('name')}</th><th>${t('specification')}</th><th>${t('group')}</th><th>${t('version')}</th><th>${t('status')}</th><th>${t('scale')}</th></tr></thead>
        <tbody>
          <tr>
            <td>${t('controlPlane')}</td><td>${c.spec.controlPlane?.specification ?? ''}</td><td>${c.spec.controlPlane?.group ?? ''}</td><td>${status.version ?? ''}</td>
            <td>${t('readyWanted', { ready: cp.ready ?? 0, wanted })}</td><td></td>
          </tr>
          ${pools
            ? pools.map((p) => {
                const name = p.metadata.name!;
                return html`<tr data-pool=${name}>
                  <td>${name}</td><td>${p.spec.specification}</td><td>${p.spec.group ?? ''}</td><td>${p.status?.version ?? p.spec.version ?? ''}</td>
                  <td>${t('readyWanted', { ready: p.status?.readyReplicas ?? 0, wanted: p.spec.replicas ?? 1 })}</td>
                  <td>
                    <form class="inline" @submit=${(e: Event) => this.scale(e, p)}>
                      <label class="sr-only" for="replicas-${name}">${t('replicas')}</label>
                      <input id="replicas-${name}" name="replicas" type="number" min="0" .value=${String(p.spec.replicas ?? 1)} />
                      <button type="submit">${t('scale')}</button>
                    </form>
                  </td>
                </tr>`;
              })
            : this.inlinePools(c, status).map(
                (p) => html`<tr data-pool=${p.name}>
                  <td>${p.name}</td><td>${p.specification ?? ''}</td><td>${p.group ?? ''}</td><td>${p.version ?? ''}</td>
                  <td>${t('readyWanted', { ready: p.ready, wanted: p.wanted })}</td><td></td>
                </tr>`,
              )}
        </tbody>
      </table>
    </div>`;
  }

  /** Without K8sNodePool: the pools an older cluster spec lists inline, with their status. */
  private inlinePools(c: K8sCluster, status: ClusterStatusView) {
    const inline = ((c.spec as { nodePools?: { name: string; replicas?: number; specification?: string; group?: string }[] }).nodePools ?? []);
    const names = [...new Set([...inline.map((p) => p.name), ...(status.nodePools ?? []).map((p) => p.name)])];
    return names.map((name) => {
      const spec = inline.find((p) => p.name === name);
      const seen = status.nodePools?.find((p) => p.name === name);
      return { name, specification: spec?.specification, group: spec?.group, version: seen?.version, ready: seen?.ready ?? 0, wanted: spec?.replicas ?? seen?.replicas ?? 0 };
    });
  }

  private async scale(e: Event, pool: K8sNodePool): Promise<void> {
    e.preventDefault();
    const replicas = Number(((e.target as HTMLFormElement).elements.namedItem('replicas') as HTMLInputElement).value);
    try {
      await api.mergePatch(objectPath(R.k8snodepools, pool.metadata.name!, pool.metadata.namespace, 'scale'), { spec: { replicas } });
      this.error = '';
    } catch (err) {
      this.error = actionError(err);
    }
  }
}
customElements.define('vf-clusters', Clusters);
