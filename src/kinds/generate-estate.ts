// Writes examples/estate/: a two-region estate laid out as a GitOps repository, one
// kustomization per folder. Deterministic: the same input always yields the same files, so the
// committed YAML is what this script produces (`npx tsx src/kinds/generate-estate.ts`).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { apiVersion } from './define.js';
import type { KubeObject } from '../machinery/object.js';

export const estateDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/estate');

interface SiteLayout {
  name: string;
  region: string;
  building: string;
  phase: string;
  location: string;
  rooms: string[];
  asnBase: number;
  vlanId: number;
  subnet: string;
}

const sites: SiteLayout[] = [
  { name: 'tw-hsinchu-1', region: 'tw', building: 'F12', phase: 'P1', location: 'Hsinchu, Taiwan', rooms: ['3F-A', '3F-B'], asnBase: 65110, vlanId: 110, subnet: '10.110.0.0/16' },
  { name: 'tw-taichung-1', region: 'tw', building: 'F15', phase: 'P2', location: 'Taichung, Taiwan', rooms: ['1F-A', '2F-A'], asnBase: 65120, vlanId: 120, subnet: '10.120.0.0/16' },
  { name: 'jp-tokyo-1', region: 'jp', building: 'TK1', phase: 'P1', location: 'Tokyo, Japan', rooms: ['B1-A', 'B1-B'], asnBase: 65210, vlanId: 210, subnet: '10.210.0.0/16' },
  { name: 'jp-osaka-1', region: 'jp', building: 'OS2', phase: 'P1', location: 'Osaka, Japan', rooms: ['2F-C', '2F-D'], asnBase: 65220, vlanId: 220, subnet: '10.220.0.0/16' },
];
const hostsPerRack = 6;
const regions = ['tw', 'jp'];

function doc(kind: string, name: string, spec: Record<string, unknown>, namespace?: string): KubeObject {
  const metadata: Record<string, unknown> = { name };
  if (namespace) metadata.namespace = namespace;
  return { apiVersion, kind, metadata, spec };
}

function namespaceDoc(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** Relative file path -> content. */
type Files = Map<string, string>;

function yamlDocs(docs: KubeObject[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

function kustomization(resources: string[]): string {
  return stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });
}

function addFolder(files: Files, folder: string, entries: Array<[string, KubeObject[]] | string>): void {
  const resources: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') {
      resources.push(entry);
      continue;
    }
    const [file, docs] = entry;
    files.set(join(folder, file), yamlDocs(docs));
    resources.push(file);
  }
  files.set(join(folder, 'kustomization.yaml'), kustomization(resources));
}

function siteFolder(files: Files, site: SiteLayout): void {
  const racks: KubeObject[] = [];
  const hosts: KubeObject[] = [];
  site.rooms.forEach((room, r) => {
    const rack = `${site.name}-r${String(r + 1).padStart(2, '0')}`;
    racks.push(doc('Rack', rack, { datacenter: site.name, room, heightUnits: 42, bgpAsn: site.asnBase + r + 1 }));
    for (let h = 0; h < hostsPerRack; h++) {
      const serial = `SN-${site.name.toUpperCase().replace(/-/g, '')}-${r + 1}${String(h + 1).padStart(2, '0')}`;
      const gpuHost = site.region === 'tw' && h === hostsPerRack - 1;
      hosts.push(
        doc('Baremetal', `${rack}-u${String(1 + h * 2).padStart(2, '0')}`, {
          serialNumber: serial,
          rack,
          unit: 1 + h * 2,
          heightUnits: 2,
          group: gpuHost ? `${site.region}-gpu` : `${site.region}-general`,
          capacity: gpuHost
            ? { cpu: 96, memory: '1Ti', storage: '16Ti', gpu: 8 }
            : { cpu: 64, memory: '512Gi', storage: '8Ti' },
        }),
      );
    }
  });
  const datacenter = doc('Datacenter', site.name, {
    region: site.region,
    building: site.building,
    phase: site.phase,
    location: site.location,
  });
  const zone = doc('Zone', `${site.name}-all`, {
    racks: racks.map((rack) => rack.metadata.name),
    network: { vlanId: site.vlanId, subnets: [site.subnet] },
    description: `Every rack of ${site.name}`,
  });
  addFolder(files, join('regions', site.region, site.name), [
    ['datacenter.yaml', [datacenter]],
    ['zone.yaml', [zone]],
    ['racks.yaml', racks],
    ['baremetals.yaml', hosts],
  ]);
}

function regionFolders(files: Files): void {
  for (const region of regions) {
    const groups = [
      doc('BaremetalGroup', `${region}-general`, {
        description: `General-purpose hosts in ${region}`,
        region,
        purpose: 'general',
        overcommit: { cpu: 4, memory: 1, storage: 1 },
        strategy: 'Spread',
      }),
    ];
    if (region === 'tw') {
      groups.push(doc('BaremetalGroup', 'tw-gpu', { description: 'GPU hosts in tw', region, purpose: 'gpu', strategy: 'Binpack' }));
    }
    const regionSites = sites.filter((site) => site.region === region);
    for (const site of regionSites) siteFolder(files, site);
    addFolder(files, join('regions', region), [['groups.yaml', groups], ...regionSites.map((site) => site.name)]);
  }
  addFolder(files, 'regions', regions);
}

function platformFolder(files: Files): void {
  const flavors: Array<[string, number, string, string, number?]> = [
    ['c2m8-g1', 2, '8Gi', '50Gi'],
    ['c4m16-g2', 4, '16Gi', '100Gi'],
    ['c8m32-g2', 8, '32Gi', '200Gi'],
    ['c16m64-g2', 16, '64Gi', '500Gi'],
    ['g8m128-g2', 8, '128Gi', '500Gi', 1],
  ];
  const specifications = flavors.map(([name, cpu, memory, storage, gpu]) =>
    doc('VirtualMachineSpecification', name, {
      cpu,
      memory,
      storage,
      ...(gpu ? { gpu } : {}),
      generation: name.split('-')[1],
    }),
  );
  const images = [
    doc('VirtualMachineImage', 'ubuntu-24.04', {
      os: { family: 'ubuntu', version: '24.04' },
      source: { url: 'https://images.example.internal/ubuntu/noble-server-cloudimg-amd64.qcow2' },
      format: 'qcow2',
      minStorage: '20Gi',
    }),
    doc('VirtualMachineImage', 'rocky-9', {
      os: { family: 'rocky', version: '9.4' },
      source: { url: 'https://images.example.internal/rocky/Rocky-9-GenericCloud.qcow2' },
      format: 'qcow2',
      minStorage: '20Gi',
    }),
    doc('VirtualMachineImage', 'ubuntu-22.04', {
      os: { family: 'ubuntu', version: '22.04' },
      source: { url: 'https://images.example.internal/ubuntu/jammy-server-cloudimg-amd64.img' },
      format: 'raw',
      minStorage: '20Gi',
      deprecated: true,
    }),
  ];
  const meshes = [
    doc('ServiceMesh', 'mesh-tw', { type: 'istio', version: '1.22.3' }),
    doc('ServiceMesh', 'mesh-jp', { type: 'cilium', version: '1.15.6' }),
  ];
  const externalControllers = [
    ...regions.map((region) =>
      doc('ExternalController', `vm-service-${region}`, {
        service: 'VirtualMachine',
        regions: [region],
        endpoint: `https://vm-service.${region}.example.internal`,
        credentialsSecret: { namespace: 'virtflow-system', name: `vm-service-${region}-token` },
      }),
    ),
    doc('ExternalController', 'baremetal-service', {
      service: 'Baremetal',
      endpoint: 'https://bm-service.example.internal',
      credentialsSecret: { namespace: 'virtflow-system', name: 'bm-service-token' },
      timeoutSeconds: 120,
    }),
    doc('ExternalController', 'ipam', { service: 'IPAM', endpoint: 'https://ipam.example.internal' }),
  ];
  addFolder(files, 'platform', [
    ['specifications.yaml', specifications],
    ['images.yaml', images],
    ['service-meshes.yaml', meshes],
    ['external-controllers.yaml', externalControllers],
  ]);
}

interface TenantLayout {
  name: string;
  displayName: string;
  quotas: Array<{ group: string; cpu: number | string; memory: string; storage: string }>;
  vms: Array<{ name: string; specification: string; group: string; role?: string; spreadKey?: string }>;
  clusters: KubeObject[];
}

function tenants(): TenantLayout[] {
  const web = (region: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      name: `web-${region}-${i + 1}`,
      specification: 'c4m16-g2',
      group: `${region}-general`,
      spreadKey: `web-${region}`,
    }));
  return [
    {
      name: 'acme',
      displayName: 'ACME Corp.',
      quotas: [
        { group: 'tw-general', cpu: '40%', memory: '2Ti', storage: '40Ti' },
        { group: 'jp-general', cpu: 128, memory: '30%', storage: '30%' },
      ],
      vms: [...web('tw', 4), ...web('jp', 2), { name: 'bastion-tw', specification: 'c2m8-g1', group: 'tw-general', role: 'Bastion' }],
      clusters: [
        doc(
          'K8sCluster',
          'prod-tw',
          {
            version: 'v1.30.2',
            schedulingMode: 'Spread',
            image: 'ubuntu-24.04',
            controlPlane: { replicas: 3, specification: 'c4m16-g2', group: 'tw-general' },
            network: { cni: 'cilium' },
            storage: [{ name: 'ceph-rbd', type: 'ceph', default: true }],
            plugins: [{ name: 'metrics-server', version: '0.7.1' }, { name: 'cert-manager', version: '1.15.1' }],
            serviceMeshes: [{ mesh: 'mesh-tw', role: 'primary' }],
            bastions: ['bastion-tw'],
          },
          'acme',
        ),
        doc('K8sNodePool', 'prod-tw-general', { cluster: 'prod-tw', replicas: 4, specification: 'c8m32-g2', group: 'tw-general' }, 'acme'),
        doc(
          'K8sNodePool',
          'prod-tw-gpu',
          { cluster: 'prod-tw', replicas: 1, specification: 'g8m128-g2', group: 'tw-gpu', labels: { accelerator: 'gpu' } },
          'acme',
        ),
      ],
    },
    {
      name: 'globex',
      displayName: 'Globex',
      quotas: [
        { group: 'tw-general', cpu: 96, memory: '768Gi', storage: '20Ti' },
        { group: 'tw-gpu', cpu: '50%', memory: '50%', storage: '50%' },
      ],
      vms: Array.from({ length: 3 }, (_, i) => ({
        name: `db-${i + 1}`,
        specification: 'c16m64-g2',
        group: 'tw-general',
        spreadKey: 'db',
      })),
      clusters: [],
    },
    {
      name: 'initech',
      displayName: 'Initech',
      quotas: [{ group: 'jp-general', cpu: '25%', memory: '1Ti', storage: '10Ti' }],
      vms: [
        { name: 'app-1', specification: 'c8m32-g2', group: 'jp-general' },
        { name: 'app-2', specification: 'c8m32-g2', group: 'jp-general' },
      ],
      clusters: [
        doc(
          'K8sCluster',
          'legacy',
          {
            version: 'v1.28.9',
            description: 'An existing cluster registered with VirtFlow',
            import: { apiServer: 'https://legacy.initech.example.internal:6443', authType: 'kubeconfig', credentialsSecret: 'legacy-kubeconfig' },
          },
          'initech',
        ),
      ],
    },
  ];
}

function tenantFolders(files: Files): void {
  const layouts = tenants();
  for (const tenant of layouts) {
    const quotas = tenant.quotas.map((quota) =>
      doc('TenantQuota', `${tenant.name}-${quota.group}`, {
        tenant: tenant.name,
        group: quota.group,
        limits: { cpu: quota.cpu, memory: quota.memory, storage: quota.storage },
      }),
    );
    const vms = tenant.vms.map((vm) =>
      doc(
        'VirtualMachine',
        vm.name,
        {
          specification: vm.specification,
          image: 'ubuntu-24.04',
          group: vm.group,
          ...(vm.role ? { role: vm.role } : {}),
          ...(vm.spreadKey ? { placement: { spreadAcross: 'Rack', spreadKey: vm.spreadKey } } : {}),
        },
        tenant.name,
      ),
    );
    const entries: Array<[string, KubeObject[]]> = [
      ['namespace.yaml', [namespaceDoc(tenant.name)]],
      ['tenant.yaml', [doc('Tenant', tenant.name, { displayName: tenant.displayName })]],
      ['quotas.yaml', quotas],
      ['virtualmachines.yaml', vms],
    ];
    if (tenant.clusters.length > 0) entries.push(['clusters.yaml', tenant.clusters]);
    addFolder(files, join('tenants', tenant.name), entries);
  }
  addFolder(files, 'tenants', layouts.map((tenant) => tenant.name));
}

function ownershipFolder(files: Files): void {
  const people: Array<[string, string]> = [
    ['mei', 'Mei Wang'],
    ['hiro', 'Hiroshi Sato'],
    ['yuki', 'Yuki Tanaka'],
    ['wei', 'Wei Chang'],
  ];
  const maintainers = people.map(([account, displayName]) =>
    doc('Maintainer', account, { displayName, account, email: `${account}@example.com` }),
  );
  const groups = [
    doc('MaintainerGroup', 'ops-tw', { displayName: 'Operations Taiwan', manager: 'wei', members: ['wei', 'mei'] }),
    doc('MaintainerGroup', 'ops-jp', { displayName: 'Operations Japan', manager: 'hiro', members: ['hiro', 'yuki'] }),
  ];
  const assignments = [
    ...sites.map((site) =>
      doc('MaintainerAssignment', `datacenter-${site.name}`, {
        resource: { apiVersion, kind: 'Datacenter', name: site.name },
        groups: [`ops-${site.region}`],
        role: 'Owner',
      }),
    ),
    doc('MaintainerAssignment', 'k8scluster-acme-prod-tw', {
      resource: { apiVersion, kind: 'K8sCluster', namespace: 'acme', name: 'prod-tw' },
      maintainers: ['mei'],
      groups: ['ops-tw'],
      role: 'Operator',
    }),
  ];
  addFolder(files, 'ownership', [
    ['maintainers.yaml', maintainers],
    ['groups.yaml', groups],
    ['assignments.yaml', assignments],
  ]);
}

export function renderEstate(): Files {
  const files: Files = new Map();
  platformFolder(files);
  regionFolders(files);
  tenantFolders(files);
  ownershipFolder(files);
  files.set('kustomization.yaml', kustomization(['platform', 'regions', 'tenants', 'ownership']));
  return files;
}

export function writeEstate(directory = estateDirectory): number {
  rmSync(directory, { recursive: true, force: true });
  const files = renderEstate();
  for (const [path, content] of files) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), content);
  }
  return files.size;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`wrote ${writeEstate()} files to ${estateDirectory}`);
}
