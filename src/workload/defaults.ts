// The defaults kube-apiserver sets on the workload kinds (SetDefaults_Deployment and friends
// in k8s.io/kubernetes/pkg/apis/*/v1/defaults.go), as far as kubectl and the simulated
// controllers read them: `kubectl rollout status` refuses a StatefulSet without its
// updateStrategy, and a Service port without a targetPort has no endpoints.
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';

type Obj = Record<string, unknown>;

function child(parent: Obj, key: string): Obj {
  if (!isPlainObject(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

function objects(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

function setIfAbsent(obj: Obj, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

export function defaultPodSpec(spec: Obj): void {
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  setIfAbsent(spec, 'securityContext', {});
  for (const container of [...objects(spec.initContainers), ...objects(spec.containers)]) {
    const image = String(container.image ?? '');
    const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
    setIfAbsent(container, 'imagePullPolicy', tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent');
    setIfAbsent(container, 'terminationMessagePath', '/dev/termination-log');
    setIfAbsent(container, 'terminationMessagePolicy', 'File');
    for (const port of objects(container.ports)) setIfAbsent(port, 'protocol', 'TCP');
  }
}

function defaultTemplate(spec: Obj): void {
  defaultPodSpec(child(child(spec, 'template'), 'spec'));
}

function defaultReplicas(spec: Obj): void {
  setIfAbsent(spec, 'replicas', 1);
  setIfAbsent(spec, 'revisionHistoryLimit', 10);
}

export const workloadDefaults: Record<string, (obj: KubeObject) => void> = {
  Pod: (obj) => defaultPodSpec(child(obj, 'spec')),
  Deployment: (obj) => {
    const spec = child(obj, 'spec');
    defaultReplicas(spec);
    setIfAbsent(spec, 'progressDeadlineSeconds', 600);
    const strategy = child(spec, 'strategy');
    setIfAbsent(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = child(strategy, 'rollingUpdate');
      setIfAbsent(rolling, 'maxUnavailable', '25%');
      setIfAbsent(rolling, 'maxSurge', '25%');
    }
    defaultTemplate(spec);
  },
  ReplicaSet: (obj) => {
    setIfAbsent(child(obj, 'spec'), 'replicas', 1);
    defaultTemplate(child(obj, 'spec'));
  },
  StatefulSet: (obj) => {
    const spec = child(obj, 'spec');
    defaultReplicas(spec);
    setIfAbsent(spec, 'podManagementPolicy', 'OrderedReady');
    const strategy = child(spec, 'updateStrategy');
    setIfAbsent(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') setIfAbsent(child(strategy, 'rollingUpdate'), 'partition', 0);
    const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
    setIfAbsent(retention, 'whenDeleted', 'Retain');
    setIfAbsent(retention, 'whenScaled', 'Retain');
    defaultTemplate(spec);
  },
  DaemonSet: (obj) => {
    const spec = child(obj, 'spec');
    setIfAbsent(spec, 'revisionHistoryLimit', 10);
    const strategy = child(spec, 'updateStrategy');
    setIfAbsent(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = child(strategy, 'rollingUpdate');
      setIfAbsent(rolling, 'maxUnavailable', 1);
      setIfAbsent(rolling, 'maxSurge', 0);
    }
    defaultTemplate(spec);
  },
  Service: (obj) => {
    const spec = child(obj, 'spec');
    setIfAbsent(spec, 'type', 'ClusterIP');
    setIfAbsent(spec, 'sessionAffinity', 'None');
    for (const port of objects(spec.ports)) {
      setIfAbsent(port, 'protocol', 'TCP');
      setIfAbsent(port, 'targetPort', port.port);
    }
  },
  PersistentVolume: (obj) => {
    const spec = child(obj, 'spec');
    setIfAbsent(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setIfAbsent(spec, 'volumeMode', 'Filesystem');
  },
  PersistentVolumeClaim: (obj) => setIfAbsent(child(obj, 'spec'), 'volumeMode', 'Filesystem'),
  StorageClass: (obj) => {
    setIfAbsent(obj, 'reclaimPolicy', 'Delete');
    setIfAbsent(obj, 'volumeBindingMode', 'Immediate');
  },
};
