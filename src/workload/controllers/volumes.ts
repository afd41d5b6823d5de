// PersistentVolumeClaims are bound as the PV controller binds them: to the volume they name,
// else to a new volume from their StorageClass (or the default class), else to an available
// static volume that fits. A volume's phase follows its claim; a released volume whose policy
// is Delete goes.
import type { KubeObject } from '../../machinery/object.js';
import { isPlainObject } from '../../machinery/object.js';
import { parseQuantity } from '../../machinery/quantity.js';
import { isAlreadyExists, type ObjectClient } from '../../runtime/client.js';
import type { Informer } from '../../runtime/informer.js';
import { keyOf, type ObjectKey } from '../../runtime/keys.js';
import type { Reconciler, Result } from '../../runtime/reconciler.js';
import { updateStatus } from '../../runtime/status.js';
import { ignoreGone, PersistentVolumeClaims, PersistentVolumes, spec, status, type Obj } from './common.js';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

function requested(claim: KubeObject): string {
  const resources = spec(claim).resources;
  const requests = isPlainObject(resources) && isPlainObject(resources.requests) ? resources.requests : {};
  return typeof requests.storage === 'string' ? requests.storage : '1Gi';
}

function bytes(quantity: unknown): number {
  try {
    return typeof quantity === 'string' ? Number(parseQuantity(quantity).nanos / 1_000_000_000n) : 0;
  } catch {
    return 0;
  }
}

function capacityOf(pv: KubeObject): string | undefined {
  const capacity = spec(pv).capacity;
  return isPlainObject(capacity) && typeof capacity.storage === 'string' ? capacity.storage : undefined;
}

export class ClaimReconciler implements Reconciler {
  constructor(
    private readonly client: ObjectClient,
    private readonly claims: Informer<KubeObject>,
    private readonly volumes: Informer<KubeObject>,
    private readonly classes: Informer<KubeObject>,
  ) {}

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const claim = this.claims.get(key);
    if (!claim || claim.metadata.deletionTimestamp) return {};
    // Retroactive default class assignment (Kubernetes 1.28+): a claim without a class gets
    // the default one before it is bound.
    if (spec(claim).storageClassName === undefined && !spec(claim).volumeName) {
      const defaultClass = this.className(claim);
      if (defaultClass) {
        await this.client.patch(PersistentVolumeClaims, keyOf(claim), 'merge', { spec: { storageClassName: defaultClass } }).catch(ignoreGone);
        return {};
      }
    }
    const volumeName = spec(claim).volumeName;
    const volume = typeof volumeName === 'string' && volumeName ? this.volumes.get({ name: volumeName }) : this.findOrProvision(claim);
    if (volume instanceof Promise) {
      const chosen = await volume;
      if (chosen) await this.client.patch(PersistentVolumeClaims, keyOf(claim), 'merge', { spec: { volumeName: chosen.metadata.name } }).catch(ignoreGone);
      else await this.setPhase(claim, undefined);
      return {};
    }
    if (volume && !isPlainObject(spec(volume).claimRef)) {
      await this.client.patch(PersistentVolumes, keyOf(volume), 'merge', { spec: { claimRef: claimRef(claim) } }).catch(ignoreGone);
    }
    await this.setPhase(claim, volume);
    return {};
  }

  private async setPhase(claim: KubeObject, volume: KubeObject | undefined): Promise<void> {
    await updateStatus(this.client, PersistentVolumeClaims, claim, (draft) => {
      draft.status = volume
        ? { phase: 'Bound', accessModes: spec(volume).accessModes ?? spec(draft).accessModes, capacity: { storage: capacityOf(volume) ?? requested(draft) } }
        : { phase: 'Pending' };
    });
  }

  private className(claim: KubeObject): string | undefined {
    const named = spec(claim).storageClassName;
    if (typeof named === 'string') return named || undefined;
    return this.classes.list().find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')?.metadata.name;
  }

  /** A static volume that fits, or a new one from the claim's class; undefined if neither. */
  private async findOrProvision(claim: KubeObject): Promise<KubeObject | undefined> {
    const className = this.className(claim);
    const want = bytes(requested(claim));
    const fits = this.volumes
      .list()
      .filter((pv) => !isPlainObject(spec(pv).claimRef) && (spec(pv).storageClassName ?? '') === (className ?? '') && bytes(capacityOf(pv)) >= want)
      .sort((a, b) => bytes(capacityOf(a)) - bytes(capacityOf(b)));
    if (fits[0]) return fits[0];
    const storageClass = className ? this.classes.get({ name: className }) : undefined;
    if (!storageClass) return undefined;
    const name = `pvc-${claim.metadata.uid}`;
    const body = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': String(storageClass.provisioner ?? 'simulated') } },
      spec: {
        capacity: { storage: requested(claim) },
        accessModes: spec(claim).accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
        storageClassName: className,
        volumeMode: spec(claim).volumeMode ?? 'Filesystem',
        claimRef: claimRef(claim),
        csi: { driver: String(storageClass.provisioner ?? 'simulated'), volumeHandle: claim.metadata.uid },
      },
    };
    try {
      return await this.client.create(PersistentVolumes, body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return this.client.get(PersistentVolumes, { name });
    }
  }
}

function claimRef(claim: KubeObject): Obj {
  return { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid };
}

export class VolumeReconciler implements Reconciler {
  constructor(
    private readonly client: ObjectClient,
    private readonly volumes: Informer<KubeObject>,
    private readonly claims: Informer<KubeObject>,
  ) {}

  async reconcile(_ctx: unknown, key: ObjectKey): Promise<Result> {
    const pv = this.volumes.get(key);
    if (!pv || pv.metadata.deletionTimestamp) return {};
    const ref = spec(pv).claimRef;
    let phase = 'Available';
    if (isPlainObject(ref)) {
      const claim = this.claims.get({ namespace: String(ref.namespace), name: String(ref.name) });
      phase = claim && (!ref.uid || claim.metadata.uid === ref.uid) ? 'Bound' : 'Released';
    }
    if (phase === 'Released' && spec(pv).persistentVolumeReclaimPolicy === 'Delete') {
      await this.client.delete(PersistentVolumes, keyOf(pv)).catch(ignoreGone);
      return {};
    }
    if (status(pv).phase !== phase) {
      await updateStatus(this.client, PersistentVolumes, pv, (draft) => {
        draft.status = { phase };
      });
    }
    return {};
  }
}
