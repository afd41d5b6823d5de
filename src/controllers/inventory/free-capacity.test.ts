import { describe, expect, it } from 'vitest';
import { formatBytes } from '../shared/resources.js';
import { freeCapacityLabels, powerOfTwoBucket } from './free-capacity.js';

const Gi = 2 ** 30;

describe('free-capacity labels', () => {
  it.each([
    [0, 0],
    [0.5, 0],
    [1, 1],
    [15, 8],
    [16, 16],
    [31, 16],
    [32, 32],
    [767, 512],
  ])('bucket %d as %d', (n, bucket) => {
    expect(powerOfTwoBucket(n)).toBe(bucket);
  });

  it('labels free cores and free GiB of memory', () => {
    expect(freeCapacityLabels({ cpu: 30, memory: 124 * Gi, storage: 0, gpu: 0 })).toEqual({ 'free.virtflow.io/cpu': '16', 'free.virtflow.io/memory-gi': '64' });
  });
});

describe('formatBytes', () => {
  it.each([
    [64 * Gi, '64Gi'],
    [1536 * 2 ** 20, '1536Mi'],
    [494780232499, '461Gi'],
    [Math.floor(1.6 * 2 ** 40), '1638Gi'],
    [1500, '1500'],
    [0, '0'],
  ])('prints %d as %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
