import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileValidator } from '../crd/validator.js';
import type { KubeObject } from '../machinery/object.js';
import { apiVersion, kindDefinition, openApiSchemaFor } from './index.js';
import { estateDirectory, renderEstate } from './generate-estate.js';

const examplesDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples');

function yamlFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return entry.endsWith('.yaml') && entry !== 'kustomization.yaml' ? [path] : [];
  });
}

interface Example {
  file: string;
  doc: KubeObject;
}

function examplesIn(folder: string): Example[] {
  return yamlFiles(join(examplesDirectory, folder)).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
      expect(document.errors, file).toEqual([]);
      return { file: relative(examplesDirectory, file), doc: document.toJS() as KubeObject };
    }),
  );
}

const lab = examplesIn('lab');
/** Built on the lab, so checked with it. */
const clusters = examplesIn('clusters');
const estate = examplesIn('estate');
const ofKind = (examples: Example[], kind: string) => examples.filter((e) => e.doc.kind === kind).map((e) => e.doc);

// compileValidator caches by schema identity, so each kind's schema is built once.
const schemas = new Map<string, ReturnType<typeof openApiSchemaFor>>();
function validate(doc: KubeObject) {
  if (!schemas.has(doc.kind)) schemas.set(doc.kind, openApiSchemaFor(kindDefinition(doc.kind)!));
  return compileValidator(schemas.get(doc.kind)!).validate(structuredClone(doc), { fieldValidation: 'Strict' });
}

describe.each([
  ['lab and examples/clusters', [...lab, ...clusters]],
  ['estate', estate],
])('examples/%s', (_name, examples) => {
  it('holds only VirtFlow kinds and Namespaces', () => {
    for (const { file, doc } of examples) {
      if (doc.kind === 'Namespace') expect(doc.apiVersion, file).toBe('v1');
      else {
        expect(doc.apiVersion, file).toBe(apiVersion);
        expect(kindDefinition(doc.kind), `${file}: ${doc.kind}`).toBeDefined();
      }
    }
  });

  it('validates every document against its kind, with no unknown fields', () => {
    const refusals = examples
      .filter(({ doc }) => doc.kind !== 'Namespace')
      .map(({ file, doc }) => ({ where: `${file}: ${doc.kind}/${doc.metadata.name}`, result: validate(doc) }))
      .filter(({ result }) => result.causes.length > 0 || result.unknownFields.length > 0);
    expect(refusals).toEqual([]);
  });

  it('puts namespaced kinds in a namespace it also declares, and cluster-scoped kinds in none', () => {
    const namespaces = new Set(ofKind(examples, 'Namespace').map((ns) => ns.metadata.name));
    for (const { file, doc } of examples) {
      if (doc.kind === 'Namespace') continue;
      const namespaced = kindDefinition(doc.kind)!.scope === 'Namespaced';
      if (namespaced) expect(namespaces.has(doc.metadata.namespace!), `${file}: ${doc.metadata.name}`).toBe(true);
      else expect(doc.metadata.namespace, `${file}: ${doc.metadata.name}`).toBeUndefined();
    }
  });

  it('refers only to objects it defines', () => {
    const names = (kind: string) => new Set(ofKind(examples, kind).map((d) => d.metadata.name));
    const missing: string[] = [];
    const need = (kind: string, name: unknown, from: KubeObject) => {
      if (typeof name === 'string' && !names(kind).has(name)) missing.push(`${from.kind}/${from.metadata.name} -> ${kind}/${name}`);
    };
    for (const { doc } of examples) {
      const spec = (doc.spec ?? {}) as Record<string, any>;
      switch (doc.kind) {
        case 'Rack': need('Datacenter', spec.datacenter, doc); break;
        case 'Baremetal': need('Rack', spec.rack, doc); need('BaremetalGroup', spec.group, doc); break;
        case 'TenantQuota': need('Tenant', spec.tenant, doc); need('BaremetalGroup', spec.group, doc); break;
        case 'VirtualMachine':
          need('VirtualMachineSpecification', spec.specification, doc);
          need('VirtualMachineImage', spec.image, doc);
          need('BaremetalGroup', spec.group, doc);
          need('Baremetal', spec.baremetal, doc);
          expect(spec.group ?? spec.baremetal, doc.metadata.name).toBeDefined();
          break;
        case 'K8sNodePool':
          need('VirtualMachineSpecification', spec.specification, doc);
          need('K8sCluster', spec.cluster, doc);
          break;
        case 'K8sCluster':
          need('VirtualMachineSpecification', spec.controlPlane?.specification, doc);
          for (const mesh of spec.serviceMeshes ?? []) need('ServiceMesh', mesh.mesh, doc);
          break;
        case 'MaintainerGroup':
          need('Maintainer', spec.manager, doc);
          for (const member of spec.members ?? []) need('Maintainer', member, doc);
          break;
        case 'MaintainerAssignment':
          need(spec.resource.kind, spec.resource.name, doc);
          for (const m of spec.maintainers ?? []) need('Maintainer', m, doc);
          for (const g of spec.groups ?? []) need('MaintainerGroup', g, doc);
          break;
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('examples/clusters', () => {
  it('is a cluster on the lab\'s flavor, group and mesh, and a node pool of it', () => {
    const [cluster, ...rest] = ofKind(clusters, 'K8sCluster') as any[];
    expect(rest).toEqual([]);
    expect(cluster.spec.controlPlane).toMatchObject({ replicas: 3, specification: 'c4m16-g2', group: 'tw-general' });
    expect(ofKind(clusters, 'K8sNodePool').map((p: any) => p.spec.cluster)).toEqual([cluster.metadata.name]);
    expect(ofKind(lab, 'ServiceMesh').map((m) => m.metadata.name)).toEqual(cluster.spec.serviceMeshes.map((m: any) => m.mesh));
  });
});

describe('examples/lab', () => {
  const count = (kind: string) => ofKind(lab, kind).length;

  it('is one data center, two racks, six hosts in two groups', () => {
    expect([count('Datacenter'), count('Rack'), count('Baremetal'), count('BaremetalGroup')]).toEqual([1, 2, 6, 2]);
  });

  it('has two tenants with quotas, their namespaces, two flavors, one image and three VMs', () => {
    expect(count('Tenant')).toBe(2);
    expect(new Set(ofKind(lab, 'TenantQuota').map((q) => (q.spec as { tenant: string }).tenant)).size).toBe(2);
    expect(ofKind(lab, 'Namespace').map((ns) => ns.metadata.name).sort()).toEqual(ofKind(lab, 'Tenant').map((t) => t.metadata.name).sort());
    expect([count('VirtualMachineSpecification'), count('VirtualMachineImage'), count('VirtualMachine')]).toEqual([2, 1, 3]);
  });

  it('has a mesh, maintainers, a group, assignments and the simulator as external controller', () => {
    expect([count('K8sCluster'), count('ServiceMesh'), count('Maintainer'), count('MaintainerGroup')]).toEqual([0, 1, 2, 1]);
    expect(count('MaintainerAssignment')).toBeGreaterThanOrEqual(2);
    expect(ofKind(lab, 'ExternalController').map((x) => x.spec)).toContainEqual({
      service: 'VirtualMachine',
      regions: ['tw'],
      endpoint: 'https://127.0.0.1:7480',
      credentialsSecret: { namespace: 'virtflow-system', name: 'virtflow-simulator-token' },
      timeoutSeconds: 30,
    });
  });

  it('orders its files so that Namespaces are applied before the VMs in them', () => {
    const files = lab.map((e) => e.file).sort();
    expect(files[0]).toMatch(/namespaces\.yaml$/);
  });
});

describe('examples/estate', () => {
  it('spans regions tw and jp with several data centers and at least 40 hosts', () => {
    const regions = new Set(ofKind(estate, 'Datacenter').map((dc) => (dc.spec as { region: string }).region));
    expect([...regions].sort()).toEqual(['jp', 'tw']);
    expect(ofKind(estate, 'Datacenter').length).toBeGreaterThanOrEqual(4);
    expect(ofKind(estate, 'Baremetal').length).toBeGreaterThanOrEqual(40);
  });

  it('is what generate-estate.ts writes (rerun it when this fails)', () => {
    const expected = renderEstate();
    const onDisk = readdirSync(estateDirectory, { recursive: true })
      .map(String)
      .filter((path) => statSync(join(estateDirectory, path)).isFile());
    expect(onDisk.sort()).toEqual([...expected.keys()].sort());
    for (const [path, content] of expected) expect(readFileSync(join(estateDirectory, path), 'utf8'), path).toBe(content);
  });

  it('reaches every YAML file from the root kustomization, one kustomization per folder', () => {
    const reached = new Set<string>();
    const visit = (folder: string) => {
      const kustomization = parse(readFileSync(join(folder, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
      for (const resource of kustomization.resources) {
        const path = join(folder, resource);
        if (statSync(path).isDirectory()) visit(path);
        else reached.add(path);
      }
    };
    visit(estateDirectory);
    expect([...reached].sort()).toEqual(yamlFiles(estateDirectory).sort());
  });
});
