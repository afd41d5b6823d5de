// Shared pieces of the end-to-end tests: the test kind, reading the CRDs and examples the
// tests compare kubectl's output against, and assertions on kubectl's results.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import YAML from 'yaml';
import { repoRoot, startVirtflow, yamlDocuments, type KubectlResult, type VirtflowProcess } from '../support/kubectl.js';

export const widgetCrdFile = path.join(repoRoot, 'test/e2e/fixtures/widgets.example.com.yaml');

/** `virtflow up` with the test kind's CRD applied through kubectl and Established. */
export async function startVirtflowWithWidgets(): Promise<VirtflowProcess> {
  const vf = await startVirtflow();
  expectOk(await vf.kubectl(['apply', '-f', widgetCrdFile]));
  expectOk(await vf.kubectl(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']));
  return vf;
}

/** A Widget (the test kind) as YAML for kubectl's standard input. */
export function widget(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string {
  return yamlDocuments([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, ...metadata }, spec }]);
}

/** Asserts kubectl exited 0, showing what it printed when it did not. */
export function expectOk(result: KubectlResult): KubectlResult {
  expect(result.code, `kubectl failed:\n${result.stderr}\n${result.stdout}`).toBe(0);
  return result;
}

/** Asserts kubectl failed with the given exit code, showing what it printed when it did not. */
export function expectFailure(result: KubectlResult, code = 1): KubectlResult {
  expect(result.code, `kubectl was expected to fail:\n${result.stdout}\n${result.stderr}`).toBe(code);
  return result;
}

/** Lines of output without the empty ones. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Collapses runs of whitespace (kubectl wraps long descriptions). */
export function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export interface CrdInfo {
  name: string;
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames: string[];
  namespaced: boolean;
  doc: any;
}

/** The CustomResourceDefinitions `virtflow up` loads from crds/. */
export function virtflowCrds(): CrdInfo[] {
  const dir = path.join(repoRoot, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .map((f) => {
      const doc = YAML.parse(readFileSync(path.join(dir, f), 'utf8'));
      const version = doc.spec.versions.find((v: { storage: boolean }) => v.storage).name as string;
      return {
        name: doc.metadata.name,
        group: doc.spec.group,
        version,
        kind: doc.spec.names.kind,
        plural: doc.spec.names.plural,
        shortNames: doc.spec.names.shortNames ?? [],
        namespaced: doc.spec.scope === 'Namespaced',
        doc,
      };
    });
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** Every document in the YAML files under dir (recursively, kustomization files excluded). */
export function manifestsUnder(dir: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const p = path.join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(entry) && entry !== 'kustomization.yaml') {
        for (const doc of YAML.parseAllDocuments(readFileSync(p, 'utf8'))) {
          const obj = doc.toJS();
          if (obj) out.push(obj as ManifestObject);
        }
      }
    }
  };
  walk(dir);
  return out;
}

/** kubectl's `<resource>.<group>/<name>` for an object (what `-o name` and apply print). */
export function kubectlName(obj: ManifestObject): string {
  const [group] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [''];
  const kind = obj.kind.toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${obj.metadata.name}`;
}

/** Parses multi-document YAML output (e.g. `kubectl kustomize`). */
export function parseDocuments(text: string): ManifestObject[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean) as ManifestObject[];
}
