// Kubernetes versions as VirtFlow takes them (v<major>.<minor>.<patch>), and the rules that
// relate two of them: order, and how far apart a cluster and its nodes may be.

export interface KubernetesVersion {
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(v: string): KubernetesVersion | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Orders v1.30.2 before v1.31.0 (numerically, part by part); unparsable ones last. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  return pa.major - pb.major || pa.minor - pb.minor || pa.patch - pb.patch;
}

/** Minor versions from `a` up to `b` (negative when b is older); undefined across majors. */
export function minorsBetween(a: string, b: string): number | undefined {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb || pa.major !== pb.major) return undefined;
  return pb.minor - pa.minor;
}

/**
 * Why a cluster (or a node pool) may not go from `from` to `to`, or undefined when it may:
 * upgrades move one minor version at a time (any patch of the current or the next minor),
 * never down.
 */
export function upgradeRefusal(from: string, to: string, what = 'a cluster'): string | undefined {
  if (from === to) return undefined;
  const pf = parseVersion(from);
  const minors = minorsBetween(from, to);
  if (!pf) return undefined;
  const allowed = `allowed: v${pf.major}.${pf.minor}.x from v${pf.major}.${pf.minor}.${pf.patch} on, or v${pf.major}.${pf.minor + 1}.x`;
  if (compareVersions(to, from) < 0) return `${to} is older than ${from}: ${what} is never downgraded (${allowed})`;
  if (minors === undefined || minors > 1) return `${from} to ${to} skips a minor version (${allowed})`;
  return undefined;
}
