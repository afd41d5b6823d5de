import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../machinery/object.js';
import { Indexer } from './indexer.js';

type Vm = KubeObject & { spec: { baremetal?: string; group: string } };

function vm(namespace: string, name: string, spec: Vm['spec'], resourceVersion = '1'): Vm {
  return { apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', metadata: { namespace, name, resourceVersion }, spec };
}

const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

describe('Indexer', () => {
  it('finds objects by key, by namespace and by a registered index', () => {
    const cache = new Indexer<Vm>({ byBaremetal: (o) => (o.spec.baremetal ? [o.spec.baremetal] : []) });
    cache.upsert(vm('t1', 'a', { baremetal: 'h1', group: 'g' }));
    cache.upsert(vm('t1', 'b', { baremetal: 'h2', group: 'g' }));
    cache.upsert(vm('t2', 'c', { group: 'g' }));
    expect(cache.get({ namespace: 't1', name: 'a' })?.spec.baremetal).toBe('h1');
    expect(cache.get('t2/c')?.metadata.name).toBe('c');
    expect(names(cache.list('t1'))).toEqual(['a', 'b']);
    expect(names(cache.list())).toEqual(['a', 'b', 'c']);
    expect(names(cache.byIndex('byBaremetal', 'h1'))).toEqual(['a']);
    expect(cache.byIndex('byBaremetal', 'nowhere')).toEqual([]);
    expect(cache.indexValues('byBaremetal').sort()).toEqual(['h1', 'h2']);
  });

  it('moves an object between index values when it changes, and drops it on removal', () => {
    const cache = new Indexer<Vm>({ byBaremetal: (o) => (o.spec.baremetal ? [o.spec.baremetal] : []) });
    cache.upsert(vm('t1', 'a', { baremetal: 'h1', group: 'g' }));
    cache.upsert(vm('t1', 'a', { baremetal: 'h2', group: 'g' }, '2'));
    expect(cache.byIndex('byBaremetal', 'h1')).toEqual([]);
    expect(names(cache.byIndex('byBaremetal', 'h2'))).toEqual(['a']);
    expect(cache.indexValues('byBaremetal')).toEqual(['h2']);
    cache.remove('t1/a');
    expect(cache.byIndex('byBaremetal', 'h2')).toEqual([]);
    expect(cache.size).toBe(0);
  });

  it('builds an index added later over the objects already held', () => {
    const cache = new Indexer<Vm>();
    cache.upsert(vm('t1', 'a', { group: 'g1' }));
    cache.addIndexer('byGroup', (o) => [o.spec.group]);
    expect(names(cache.byIndex('byGroup', 'g1'))).toEqual(['a']);
    expect(() => cache.addIndexer('byGroup', () => [])).toThrow(/already registered/);
    expect(() => cache.byIndex('missing', 'x')).toThrow(/no index/);
  });

  it('on replace reports added, changed and vanished objects, but not unchanged ones', () => {
    const cache = new Indexer<Vm>();
    cache.upsert(vm('t', 'same', { group: 'g' }, '1'));
    cache.upsert(vm('t', 'changed', { group: 'g' }, '1'));
    cache.upsert(vm('t', 'gone', { group: 'g' }, '1'));
    const diff = cache.replace([vm('t', 'same', { group: 'g' }, '1'), vm('t', 'changed', { group: 'g' }, '5'), vm('t', 'new', { group: 'g' }, '6')]);
    expect(names(diff.added)).toEqual(['new']);
    expect(diff.updated.map((u) => [u.previous.metadata.resourceVersion, u.object.metadata.resourceVersion])).toEqual([['1', '5']]);
    expect(names(diff.deleted)).toEqual(['gone']);
    expect(names(cache.list())).toEqual(['changed', 'new', 'same']);
  });
});
