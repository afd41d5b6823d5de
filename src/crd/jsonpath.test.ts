import { describe, expect, it } from 'vitest';
import { evaluateJsonPath, JsonPathError } from './jsonpath.js';

const vm = {
  metadata: { name: 'vm-1', labels: { foo: 'bar', 'app.kubernetes.io/name': 'web' } },
  spec: { nodePools: [{ name: 'a', count: 1 }, { name: 'b', count: 3 }, { name: 'c', count: 5 }] },
  status: {
    phase: 'Running',
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'Synced', status: 'False' },
    ],
  },
};

describe('evaluateJsonPath', () => {
  const cases: Array<{ reason: string; path: string; want: unknown[] }> = [
    { reason: 'A dotted path selects one nested value.', path: '.status.phase', want: ['Running'] },
    { reason: 'Braces and a leading $ are accepted as kubectl writes them.', path: '{$.status.phase}', want: ['Running'] },
    { reason: 'A wildcard over a list selects a field of every item.', path: '.spec.nodePools[*].name', want: ['a', 'b', 'c'] },
    { reason: 'A label key is reached with a dotted path.', path: '.metadata.labels.foo', want: ['bar'] },
    { reason: 'A bracket-quoted key may contain dots and slashes.', path: ".metadata.labels['app.kubernetes.io/name']", want: ['web'] },
    { reason: 'A double-quoted bracket key works too.', path: '.metadata["name"]', want: ['vm-1'] },
    { reason: 'A filter on equality selects the matching condition.', path: '.status.conditions[?(@.type=="Ready")].status', want: ['True'] },
    { reason: 'A filter with single quotes and != selects the others.', path: ".status.conditions[?(@.type!='Ready')].type", want: ['Synced'] },
    { reason: 'A numeric filter compares numbers.', path: '.spec.nodePools[?(@.count > 2)].name', want: ['b', 'c'] },
    { reason: 'An existence filter keeps items that have the field.', path: '.status.conditions[?(@.status)].type', want: ['Ready', 'Synced'] },
    { reason: 'A negative index counts from the end.', path: '.spec.nodePools[-1].name', want: ['c'] },
    { reason: 'A slice selects a range.', path: '.spec.nodePools[0:2].name', want: ['a', 'b'] },
    { reason: 'Recursive descent finds a field at any depth.', path: '..count', want: [1, 3, 5] },
    { reason: 'A missing key selects nothing rather than failing.', path: '.status.placement.host', want: [] },
    { reason: 'An index past the end selects nothing.', path: '.spec.nodePools[9].name', want: [] },
  ];

  it.each(cases)('$reason', ({ path, want }) => {
    expect(evaluateJsonPath(path, vm)).toEqual(want);
  });

  it('rejects a malformed expression with a JsonPathError.', () => {
    expect(() => evaluateJsonPath('.spec.nodePools[0', vm)).toThrow(JsonPathError);
    expect(() => evaluateJsonPath('.status.conditions[?(@.type=="Ready"]', vm)).toThrow(JsonPathError);
  });
});
