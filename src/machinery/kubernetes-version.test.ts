import { describe, expect, it } from 'vitest';
import { compareVersions, upgradeRefusal } from './kubernetes-version.js';

describe('upgradeRefusal', () => {
  it.each([
    { reason: 'A patch of the same minor is allowed.', from: 'v1.30.2', to: 'v1.30.5', refused: undefined },
    { reason: 'The next minor is allowed.', from: 'v1.30.2', to: 'v1.31.0', refused: undefined },
    { reason: 'The same version is no change.', from: 'v1.30.2', to: 'v1.30.2', refused: undefined },
    { reason: 'Skipping a minor is refused, naming the allowed versions.', from: 'v1.30.2', to: 'v1.32.0', refused: 'v1.30.2 to v1.32.0 skips a minor version (allowed: v1.30.x from v1.30.2 on, or v1.31.x)' },
    { reason: 'Going down a patch is refused.', from: 'v1.30.2', to: 'v1.30.1', refused: 'v1.30.1 is older than v1.30.2: a cluster is never downgraded (allowed: v1.30.x from v1.30.2 on, or v1.31.x)' },
    { reason: 'A new major is refused.', from: 'v1.30.2', to: 'v2.0.0', refused: 'v1.30.2 to v2.0.0 skips a minor version (allowed: v1.30.x from v1.30.2 on, or v1.31.x)' },
  ])('$reason', ({ from, to, refused }) => {
    expect(upgradeRefusal(from, to)).toBe(refused);
  });

  it('orders versions numerically, not as text', () => {
    expect(['v1.10.0', 'v1.9.3', 'v1.9.10'].sort(compareVersions)).toEqual(['v1.9.3', 'v1.9.10', 'v1.10.0']);
  });
});
