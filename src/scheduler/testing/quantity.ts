// Just enough of Kubernetes quantities for readable fixtures ("256Gi", "2Ti", "500M").
// The real parser belongs to the caller that builds snapshots; tests only need this.

const suffixes: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
};

export function bytes(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^(\d+(?:\.\d+)?)([KMGTP]i|[kMGTP])?$/.exec(quantity);
  if (!match) throw new Error(`cannot parse test quantity ${JSON.stringify(quantity)}`);
  return Number(match[1]) * suffixes[match[2] ?? '']!;
}
