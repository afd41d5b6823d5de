// Kubernetes versions move one minor at a time: a K8sCluster's (or a K8sNodePool's own)
// spec.version may go to any patch of the minor it runs or the next one, never down and
// never past a minor; a K8sNodePool's version may lag its cluster's by one minor, never lead
// it. (A rollback is VirtFlow's own doing, through status, not a user's downgrade.)
import type { Admitter } from '../api/object-service.js';
import { errors } from '../machinery/errors.js';
import { compareVersions, minorsBetween, upgradeRefusal } from '../machinery/kubernetes-version.js';
import type { WatchCache } from '../store/watch-cache.js';

const CLUSTERS = 'virtflow.io/k8sclusters';
const POOLS = 'virtflow.io/k8snodepools';

type Versioned = { spec?: { version?: string; cluster?: string }; status?: { version?: string } };

/** Why a pool at `pool` may not belong to a cluster at `cluster`, or undefined. */
export function poolVersionRefusal(pool: string, cluster: string): string | undefined {
  const lag = minorsBetween(pool, cluster);
  if (compareVersions(pool, cluster) > 0) return `${pool} is newer than the cluster's ${cluster}: a node pool may lag its cluster by one minor version, never ahead`;
  if (lag === undefined || lag > 1) return `${pool} is more than one minor version behind the cluster's ${cluster}: a node pool may lag its cluster by one minor version, never ahead`;
  return undefined;
}

export function clusterVersionAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, oldObject, subresource }) {
      if (subresource || info.group !== 'virtflow.io' || (operation !== 'CREATE' && operation !== 'UPDATE')) return;
      const obj = object as Versioned;
      const name = object.metadata.name ?? '';
      const namespace = object.metadata.namespace ?? '';
      const refuse = (message: string) => {
        throw errors.invalid(info.kind, info.group, name, [{ type: 'FieldValueInvalid', field: 'spec.version', message: `Invalid value: "${obj.spec?.version}": ${message}` }]);
      };
      if (info.plural === 'k8sclusters' && operation === 'UPDATE') {
        const old = oldObject as Versioned | undefined;
        const to = obj.spec?.version;
        if (!to || to === old?.spec?.version) return;
        // From what runs: after a rollback the spec still names the version that failed.
        const from = old?.status?.version ?? old?.spec?.version;
        const why = from ? upgradeRefusal(from, to) : undefined;
        if (why) refuse(why);
        for (const entry of cache.list(POOLS, namespace)) {
          const pool = entry.object as Versioned;
          if (pool.spec?.cluster !== name || !pool.spec.version) continue;
          const lag = minorsBetween(pool.spec.version, to);
          if (lag === undefined || lag > 1) refuse(`node pool ${entry.name} runs ${pool.spec.version}, which may lag the cluster by one minor version at most; upgrade the pool first`);
        }
      }
      if (info.plural === 'k8snodepools' && operation === 'UPDATE' && obj.spec?.version) {
        const old = oldObject as Versioned | undefined;
        // From what the pool's nodes run (after a rollback the spec names the version that failed).
        const from = old?.status?.version ?? old?.spec?.version;
        const why = from && obj.spec.version !== old?.spec?.version ? upgradeRefusal(from, obj.spec.version, 'a node pool') : undefined;
        if (why) refuse(why);
      }
      if (info.plural === 'k8snodepools' && obj.spec?.version && obj.spec.cluster) {
        const cluster = cache.get(CLUSTERS, `${CLUSTERS}/${namespace}/${obj.spec.cluster}`)?.object as Versioned | undefined;
        const clusterVersion = cluster?.spec?.version;
        if (!clusterVersion) return;
        const why = poolVersionRefusal(obj.spec.version, clusterVersion);
        if (why) refuse(why);
      }
    },
  };
}
